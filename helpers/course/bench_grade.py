"""How fast the grader is: ``make bench-grade`` (a benchmark, not a test).

1. One student's week: the solved notebooks 01–08 (00 and 09 have no graded exercise) graded
   with ``--jobs 2``, sandbox included; then the same files graded by ``nbgrader autograde`` (one
   course, one student, one assignment per notebook) in the same run, for the ratio.
2. A class of notebook 05: 40 copies, with ``--jobs 1`` and ``--jobs 2``: submissions per
   minute and the speed-up.
3. The sandbox's own cost: the same exercise run with and without bubblewrap.

Prints a table and writes ``--json``.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from helpers.checks import EXERCISES
from helpers.course import grade, sandbox
from helpers.course.notebook_io import write_text_atomically

NOTEBOOKS = grade.NOTEBOOKS_DIR
WEEK = sorted({e.notebook for e in EXERCISES.values()})


def _grade(paths, jobs, sandboxed=True) -> tuple:
    """Seconds to grade ``paths`` (grader start-up included) and the reports."""
    start = time.perf_counter()
    grader = grade.Grader(sandboxed=sandboxed, jobs=jobs)
    try:
        reports = grader.grade(paths)
    finally:
        grader.close()
    return time.perf_counter() - start, reports


def week(work: Path) -> dict:
    folder = work / "week"
    folder.mkdir()
    paths = [Path(shutil.copy(NOTEBOOKS / f"{stem}.ipynb", folder)) for stem in WEEK]
    seconds, reports = _grade(paths, jobs=2)
    return {
        "notebooks": len(paths),
        "seconds": round(seconds, 1),
        "score": sum(r["score"] for r in reports),
        "max_score": sum(r["max_score"] for r in reports),
        "per_notebook": {r["notebook"]: r["seconds"] for r in reports},
    }


def nbgrader_week(work: Path):
    """Seconds for ``nbgrader autograde`` of the same week, or None without nbgrader."""
    executable = Path(sys.executable).parent / "nbgrader"
    if not executable.exists():
        return None
    course = work / "nbgrader"
    for stem in WEEK:
        for kind in ("source", "submitted/student"):
            (course / kind / stem).mkdir(parents=True)
            shutil.copy(NOTEBOOKS / f"{stem}.ipynb", course / kind / stem)
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        "c.CourseDirectory.course_id = 'week3'\n"
        "c.CourseDirectory.db_students = [dict(id='student')]\n"
        f"c.CourseDirectory.db_assignments = {[{'name': s} for s in WEEK]!r}\n"
        "c.ExecutePreprocessor.timeout = 600\n"
    )
    env = {**os.environ, "PATH": f"{executable.parent}{os.pathsep}{os.environ.get('PATH', '')}"}

    def nbgrader(command, stem):
        subprocess.run(
            [str(executable), command, stem, "--force"],
            cwd=course,
            env=env,
            check=True,
            capture_output=True,
        )

    for stem in WEEK:
        nbgrader("generate_assignment", stem)
    generated = time.perf_counter()
    for stem in WEEK:
        nbgrader("autograde", stem)
    return round(time.perf_counter() - generated, 1)


def a_class(work: Path, n: int = 40) -> dict:
    folder = work / "class"
    paths = []
    for i in range(n):
        (folder / f"s{i:02d}").mkdir(parents=True)
        source = NOTEBOOKS / "05_softmax_regression.ipynb"
        paths.append(Path(shutil.copy(source, folder / f"s{i:02d}")))
    result = {"submissions": n}
    for jobs in (1, 2):
        seconds, reports = _grade(paths, jobs=jobs)
        assert all(r["score"] == r["max_score"] for r in reports)
        result[f"jobs{jobs}_seconds"] = round(seconds, 1)
        result[f"jobs{jobs}_per_minute"] = round(60 * n / seconds, 1)
    result["speed_up"] = round(result["jobs1_seconds"] / result["jobs2_seconds"], 2)
    return result


def sandbox_overhead(work: Path, repeat: int = 5) -> dict:
    """Median seconds of one run of notebook 05 (4 exercises) with and without bubblewrap."""
    path = Path(shutil.copy(NOTEBOOKS / "05_softmax_regression.ipynb", work))
    out = {}
    for sandboxed in (True, False):
        grader = grade.Grader(sandboxed=sandboxed)
        try:
            _, plan = grader.plan(path)
            times = sorted(grader.run(plan).seconds for _ in range(repeat))
        finally:
            grader.close()
        out["sandboxed" if sandboxed else "unsandboxed"] = round(times[repeat // 2], 2)
    out["overhead"] = round(out["sandboxed"] - out["unsandboxed"], 2)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path)
    parser.add_argument("--skip-nbgrader", action="store_true")
    parser.add_argument("--class-size", type=int, default=40)
    args = parser.parse_args(argv)
    try:
        sandbox.check_available(True)
    except sandbox.SandboxUnavailable as error:
        print(f"bench-grade measures the sandboxed grader: {error}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        results = {"cpus": os.cpu_count(), "load_before": os.getloadavg()[0]}
        results["week"] = week(work)
        print(
            f"week ({results['week']['notebooks']} notebooks, --jobs 2): "
            f"{results['week']['seconds']} s",
            flush=True,
        )
        if not args.skip_nbgrader:
            results["nbgrader_week_seconds"] = nbgrader_week(work)
            if results["nbgrader_week_seconds"]:
                ratio = results["nbgrader_week_seconds"] / results["week"]["seconds"]
                results["faster_than_nbgrader"] = round(ratio, 2)
                print(
                    f"nbgrader autograde, same week: {results['nbgrader_week_seconds']} s "
                    f"({ratio:.1f}x slower)",
                    flush=True,
                )
        results["sandbox"] = sandbox_overhead(work)
        print(f"one exercise run: {results['sandbox']}", flush=True)
        results["class"] = a_class(work, args.class_size)
        print(f"class of {args.class_size} × 05: {results['class']}", flush=True)
    if args.json:
        write_text_atomically(json.dumps(results, indent=2) + "\n", args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
