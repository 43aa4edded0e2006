"""The autograder: ``python -m helpers.course.grade SUBMISSION.ipynb [...] [--json PATH]``.

Only the exercise cells of a submission are the student's. For each graded function the grader
builds a program from the *instructor's* notebook — its set-up cells (cells marked
``metadata.course.demo`` are demonstrations and left out), the course's reference of every
earlier exercise this one builds on, then the source of the submission's cell whose nbgrader
``grade_id`` is the function's name — and runs it sealed (:mod:`helpers.course.sandbox`), one run
per exercise. Inside, :mod:`helpers.course.runner` only calls the function on the check's cases
and returns plain data; expected values and verdicts are reached here, in the grader's process,
by the same case tables the notebooks' check cells run. Every other cell of the submission, and
anything its code prints, is ignored.

Which assignment a submission answers comes from the instructor's side: ``--assignment`` or the
file name, which must start with an instructor notebook's name (``05_softmax_regression.ipynb``,
``05_softmax_regression-alice.ipynb``).

Exit status 0 when every submission was graded, 1 when one could not be (the report says why),
2 for bad arguments or a missing sandbox.
"""

import argparse
import contextlib
import csv
import inspect
import io
import json
import queue
import re
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from helpers.checks import EXERCISES
from helpers.checks.cases import case_table, judge
from helpers.course import sandbox
from helpers.course.notebook_io import read_notebook, write_text_atomically

NOTEBOOKS_DIR = Path(__file__).resolve().parents[2] / "notebooks"
DEMO_KEY = "course"  # cell.metadata.course.demo = true: a demonstration, not run when grading


# ---- the program: built from the instructor's notebook -----------------------------------------


def _grade_id(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def is_demo(cell) -> bool:
    return bool(cell.metadata.get(DEMO_KEY, {}).get("demo"))


def instructor_program(notebook) -> list:
    """The set-up cells of an instructor notebook: code cells that are neither exercises, nor
    checks, nor marked as demonstrations."""
    return [
        cell.source
        for cell in notebook.cells
        if cell.cell_type == "code" and not is_demo(cell) and "nbgrader" not in cell.metadata
    ]


def exercise_sources(submission, functions) -> tuple:
    """Return ``({function: source}, notes)``: each exercise cell's source, found by grade_id.

    The first code cell with the grade_id counts; a copy further down is ignored with a note.
    """
    sources, notes = {}, []
    for cell in submission.cells:
        grade_id = _grade_id(cell)
        if cell.cell_type != "code" or grade_id not in functions:
            continue
        if grade_id in sources:
            notes.append(f"a second cell with grade_id {grade_id!r} was ignored")
            continue
        sources[grade_id] = cell.source if isinstance(cell.source, str) else ""
    return sources, notes


def dependency_sources(uses: dict, graded: set) -> list:
    """The reference modules of ``uses`` as source, every graded function but those stubbed."""
    by_module = defaultdict(list)
    for name, function in uses.items():
        by_module[inspect.getmodule(function)].append(name)
    return [
        {
            "module": module.__name__,
            "source": sandbox.stub_graded_functions(inspect.getsource(module), graded - set(names)),
            "names": names,
        }
        for module, names in by_module.items()
    ]


def identify(path: Path, assignments, assignment=None):
    """The assignment a submission answers, from ``--assignment`` or its file name, or None."""
    if assignment:
        return assignment if assignment in assignments else None
    matches = [stem for stem in assignments if path.stem.startswith(stem)]
    return max(matches, key=len) if matches else None


# ---- grading ------------------------------------------------------------------------------------


class Grader:
    """Grades submissions against the instructor notebooks in ``course_dir``."""

    def __init__(self, *, course_dir=NOTEBOOKS_DIR, sandboxed=True, limits=None, jobs=1):
        self.bwrap = sandbox.check_available(sandboxed)
        self.limits = limits or sandbox.Limits()
        self.notebook_seconds = self.limits.wall_seconds * 5
        self.course_dir = Path(course_dir)
        self.assignments = sorted({e.notebook for e in EXERCISES.values()})
        self.jobs = max(1, int(jobs))
        self._workspace = tempfile.TemporaryDirectory(prefix="dnn-week3-grading-")
        self.workspace = Path(self._workspace.name)
        self.package = sandbox.course_package(self.workspace / "package", set(EXERCISES))
        (self.workspace / "runs").mkdir()
        self.matplotlib_dir = sandbox.matplotlib_cache(self.workspace / "matplotlib")
        self._programs, self._tables = {}, {}
        self._lock = threading.Lock()
        self._slots = queue.Queue()
        for slot in range(self.jobs):
            self._slots.put(slot)

    def close(self):
        self._workspace.cleanup()

    def _setup(self, assignment):
        with self._lock:
            if assignment not in self._programs:
                nb = read_notebook(self.course_dir / f"{assignment}.ipynb")
                self._programs[assignment] = instructor_program(nb)
            return self._programs[assignment]

    def _table(self, function):
        with self._lock:
            if function not in self._tables:
                with contextlib.redirect_stdout(io.StringIO()):
                    self._tables[function] = case_table(EXERCISES[function].check)
            return self._tables[function]

    def plan(self, path, assignment=None) -> dict:
        """Read one submission and return its report skeleton with one program per exercise."""
        path = Path(path)
        report = {
            "submission": str(path),
            "notebook": None,
            "graded": False,
            "score": 0.0,
            "max_score": 0.0,
            "exercises": [],
            "notes": [],
            "seconds": 0.0,
        }
        try:
            submission = read_notebook(path)
        except (FileNotFoundError, ValueError) as error:
            report["notes"].append(str(error))
            return report
        assignment = identify(path, self.assignments, assignment)
        if assignment is None:
            report["notes"].append(
                "cannot tell which assignment this is: name the file after the notebook "
                f"(e.g. {self.assignments[0]}.ipynb) or pass --assignment"
            )
            return report
        report["notebook"] = assignment
        exercises = [e for e in EXERCISES.values() if e.notebook == assignment]
        report["max_score"] = float(sum(e.points for e in exercises))
        sources, notes = exercise_sources(submission, {e.function for e in exercises})
        report["notes"] += notes
        if not sources:
            report["notes"].append(f"the notebook holds none of {assignment}'s exercise cells")
        setup = self._setup(assignment)
        report["_runs"] = []
        for exercise in exercises:
            table = self._table(exercise.function)
            program = {
                "setup": setup,
                "dependencies": dependency_sources(table.uses, set(EXERCISES)),
                "exercise": {
                    "function": exercise.function,
                    "source": sources.get(exercise.function),
                },
                "cases": [case.request() for case in table.cases],
            }
            report["_runs"].append((exercise, table, program))
        report["graded"] = True
        return report

    def run(self, program, deadline=None):
        slot = self._slots.get()
        try:
            limits = self.limits
            if deadline is not None:
                left = max(1.0, min(limits.wall_seconds, deadline - time.monotonic()))
                limits = sandbox.Limits(**{**limits.__dict__, "wall_seconds": left})
            return sandbox.run_exercise(
                program,
                self.package,
                bwrap=self.bwrap,
                limits=limits,
                slot=slot,
                workspace=self.workspace / "runs",
                matplotlib_dir=self.matplotlib_dir,
            )
        finally:
            self._slots.put(slot)

    def grade(self, paths, assignment=None, progress=None) -> list:
        """Grade every submission (``--jobs`` runs at a time); return one report each."""
        reports = [self.plan(p, assignment) for p in paths]
        runs = [(r, i) for r in reports for i in range(len(r.get("_runs", [])))]
        deadlines = {}
        results = {}

        def one(item):
            report, index = item
            key = id(report)
            with self._lock:
                deadlines.setdefault(key, time.monotonic() + self.notebook_seconds)
            return item, self.run(report["_runs"][index][2], deadlines[key])

        with ThreadPoolExecutor(max_workers=self.jobs) as pool:
            for done, ((report, index), result) in enumerate(pool.map(one, runs), 1):
                results[id(report), index] = result
                if progress:
                    progress(done, len(runs))
        for report in reports:
            for index, (exercise, table, _) in enumerate(report.pop("_runs", [])):
                result = results[id(report), index]
                report["seconds"] += result.seconds
                entry = self._judge(exercise, table, result)
                if entry.pop("setup_error", None):
                    report["graded"] = False
                    report["notes"].append(
                        f"the instructor's set-up cells failed: {entry['feedback']}"
                    )
                report["exercises"].append(entry)
                report["score"] += entry["points"]
            report["seconds"] = round(report["seconds"], 2)
        return reports

    def _judge(self, exercise, table, result) -> dict:
        entry = {
            "grade_id": exercise.check_grade_id,
            "function": exercise.function,
            "points": 0.0,
            "max_points": float(exercise.points),
            "passed": False,
            "status": "failed",
            "feedback": "",
            "cases": [],
        }
        name = exercise.function
        data = result.data
        if data is None:
            entry["status"] = "timeout" if "longer than" in (result.problem or "") else "crashed"
            entry["feedback"] = f"✗ {name}: its run {result.problem}"
            return entry
        if data.get("setup_error"):
            entry.update(status="error", setup_error=True, feedback=str(data["setup_error"]))
            return entry
        cell_error = data.get("cell_error")
        observations = data.get("observations")
        if not data.get("found") or not isinstance(observations, list):
            entry["status"] = "missing"
            entry["feedback"] = (
                f"✗ {name} is not defined: was its exercise cell deleted, renamed, or did "
                "it fail to run?"
            )
            if cell_error:
                entry["feedback"] = f"the exercise cell raised {cell_error}\n" + entry["feedback"]
            return entry
        failures = []
        for case, raw in zip(table.cases, observations + [None] * len(table.cases), strict=False):
            with contextlib.redirect_stdout(io.StringIO()):
                failure = judge(name, case, raw, table.arg_names)
            entry["cases"].append({"case": case.name, "passed": failure is None})
            if failure:
                failures.append(failure)
        if failures:
            entry["feedback"] = failures[0]
            if cell_error:
                entry["feedback"] = f"the exercise cell raised {cell_error}\n{failures[0]}"
        else:
            entry.update(
                passed=True,
                status="passed",
                points=float(exercise.points),
                feedback=f"✓ {name}: {len(table.cases)}/{len(table.cases)} checks passed",
            )
        return entry


def grade_notebook(path, *, assignment=None, sandboxed=True, timeout=60) -> dict:
    """Grade one submission; return its report (see ``--json``). Never raises for a bad file."""
    grader = Grader(sandboxed=sandboxed, limits=sandbox.Limits(wall_seconds=timeout))
    try:
        return grader.grade([path], assignment)[0]
    finally:
        grader.close()


# ---- reports ------------------------------------------------------------------------------------


def format_report(report: dict) -> str:
    """Return the human-readable table of one report."""
    lines = [f"{report['submission']}  ({report['notebook'] or 'unknown notebook'})"]
    lines += [f"  note: {note}" for note in report["notes"]]
    if not report["graded"]:
        lines.append("  NOT GRADED")
    if report["exercises"]:
        width = max(len(e["function"]) for e in report["exercises"])
        lines.append(f"  {'exercise':<{width}}  points  result   feedback")
        for e in report["exercises"]:
            first = e["feedback"].splitlines()[0] if e["feedback"] else ""
            lines.append(
                f"  {e['function']:<{width}}  {e['points']:>2.0f}/{e['max_points']:<2.0f}   "
                f"{e['status']:<7}  {first}"
            )
    lines.append(f"  total {report['score']:g}/{report['max_score']:g}")
    return "\n".join(lines)


def gradebook_csv(reports) -> str:
    """One row per submission, one column per exercise, then total and max (LMS-importable)."""
    functions = [e.function for e in EXERCISES.values()]
    graded = {e["function"] for r in reports for e in r["exercises"]}
    used = [f for f in functions if f in graded]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["submission", "notebook", "graded", *used, "total", "max"])
    for report in reports:
        points = {e["function"]: e["points"] for e in report["exercises"]}
        writer.writerow(
            [
                report["submission"],
                report["notebook"] or "",
                "yes" if report["graded"] else "no",
                *(f"{points[f]:g}" if f in points else "" for f in used),
                f"{report['score']:g}",
                f"{report['max_score']:g}",
            ]
        )
    return out.getvalue()


def item_analysis(reports) -> dict:
    """Per exercise and per case: how many submissions fail it, and the commonest messages."""
    exercises = {}
    for report in reports:
        for e in report["exercises"]:
            item = exercises.setdefault(
                e["function"],
                {"submissions": 0, "failed": 0, "messages": Counter(), "cases": {}},
            )
            item["submissions"] += 1
            if not e["passed"]:
                item["failed"] += 1
                # the case and the hint, without the student's numbers
                lines = e["feedback"].splitlines()
                summary = " / ".join(
                    line.strip()
                    for line in lines
                    if line.startswith(("✗", "  hint", "the exercise cell raised"))
                )
                item["messages"][re.sub(r"\s+", " ", summary)[:200]] += 1
            for case in e["cases"]:
                counts = item["cases"].setdefault(case["case"], [0, 0])
                counts[0] += 1
                counts[1] += not case["passed"]
    return {
        name: {
            "submissions": item["submissions"],
            "failed_share": item["failed"] / item["submissions"],
            "common_failures": item["messages"].most_common(3),
            "cases": {
                case: {"failed_share": failed / total}
                for case, (total, failed) in item["cases"].items()
            },
        }
        for name, item in exercises.items()
    }


def item_analysis_chart(analysis: dict, path: Path) -> None:
    """One bar chart: the share of submissions failing each exercise."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(analysis)
    shares = [100 * analysis[n]["failed_share"] for n in names]
    fig, ax = plt.subplots(figsize=(6.4, 0.4 * len(names) + 1.2))
    ax.barh(names, shares)
    ax.set_xlim(0, 100)
    ax.set_xlabel("submissions failing (%)")
    ax.set_title("Which exercises the class missed")
    ax.invert_yaxis()
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(buffer.getvalue())
    tmp.replace(path)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Grade submitted notebooks, each sandboxed.")
    parser.add_argument("submissions", nargs="+", type=Path)
    parser.add_argument("--assignment", help="the instructor notebook every submission answers")
    parser.add_argument("--json", type=Path, help="write the machine-readable report here")
    parser.add_argument("--gradebook", type=Path, help="write a CSV gradebook here")
    parser.add_argument(
        "--item-analysis", type=Path, help="write per-exercise failure shares (JSON + PNG)"
    )
    parser.add_argument("--jobs", type=int, default=1, help="runs at a time (default 1)")
    parser.add_argument(
        "--timeout", type=float, default=60, help="seconds per exercise (default 60)"
    )
    parser.add_argument(
        "--notebook-timeout",
        type=float,
        help="seconds for all of one submission's runs (default 5 × --timeout)",
    )
    parser.add_argument("--memory-mb", type=int, default=8192, help="address space per run")
    parser.add_argument(
        "--no-sandbox",
        action="store_true",
        help="run submissions without bubblewrap (trusted submissions only)",
    )
    args = parser.parse_args(argv)
    if args.timeout <= 0 or args.jobs < 1:
        parser.error("--timeout must be positive and --jobs at least 1")
    if args.assignment and args.assignment not in {e.notebook for e in EXERCISES.values()}:
        parser.error(f"--assignment {args.assignment!r} is not a graded notebook")
    limits = sandbox.Limits(wall_seconds=args.timeout, memory_bytes=args.memory_mb * 1024**2)
    try:
        grader = Grader(sandboxed=not args.no_sandbox, limits=limits, jobs=args.jobs)
    except sandbox.SandboxUnavailable as error:
        print(f"refusing to grade: {error}", file=sys.stderr)
        return 2
    if args.no_sandbox:
        print("warning: --no-sandbox: submissions run with your rights", file=sys.stderr)
    if args.notebook_timeout:
        grader.notebook_seconds = args.notebook_timeout

    def progress(done, total):
        if sys.stderr.isatty():
            bar = "#" * (30 * done // total)
            print(f"\r[{bar:<30}] {done}/{total} runs", end="", file=sys.stderr, flush=True)

    try:
        reports = grader.grade(args.submissions, args.assignment, progress)
    finally:
        grader.close()
    if sys.stderr.isatty():
        print(file=sys.stderr)
    for report in reports:
        print(format_report(report), flush=True)
    if args.json:
        payload = reports[0] if len(reports) == 1 else reports
        write_text_atomically(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", args.json)
    if args.gradebook:
        write_text_atomically(gradebook_csv(reports), args.gradebook)
    if args.item_analysis:
        analysis = item_analysis(reports)
        path = args.item_analysis.with_suffix(".json")
        write_text_atomically(json.dumps(analysis, indent=2, ensure_ascii=False) + "\n", path)
        item_analysis_chart(analysis, args.item_analysis.with_suffix(".png"))
    ungraded = [r for r in reports if not r["graded"]]
    for report in ungraded:
        print(f"could not grade {report['submission']}: {'; '.join(report['notes'])}")
    return 1 if ungraded else 0


if __name__ == "__main__":
    sys.exit(main())
