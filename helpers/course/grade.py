"""The autograder: ``python -m helpers.course.grade SUBMISSION.ipynb [...] [--json PATH]``.

Only the exercise cells of a submission are the student's. For each graded function the grader
builds a program from the *instructor's* notebook — its set-up cells (cells marked
``metadata.course.demo`` are demonstrations and left out), the course's reference of every
earlier exercise this one builds on, then the source of the submission's cell whose nbgrader
``grade_id`` is the function's name — and runs it sealed (:mod:`helpers.course.sandbox`), one
sandbox per submission with one process per exercise (forked after the set-up, so a crash or an
endless loop costs that exercise only). Inside, :mod:`helpers.course.runner` only calls the
function on the check's cases and returns plain data; expected values and verdicts are reached
here, in the grader's process, by the same case tables the notebooks' check cells run. Every
other cell of the submission, and anything its code prints, is ignored.

``--jobs N`` runs N submissions at a time here; ``--scheduler tcp://host:8786`` runs them on the
workers of an existing Dask cluster instead (:mod:`helpers.course.cluster`), in the same sandbox,
and judges and writes everything here as for a local run.

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
import os
import re
import sys
import tempfile
import threading
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tqdm import tqdm

import helpers

# Case tables of notebooks 06-08 import TensorFlow here: without its start-up banner.
os.environ.update(helpers.TENSORFLOW_QUIET_ENV)

from helpers.checks import EXERCISES
from helpers.checks.cases import judge
from helpers.course import cells, sandbox
from helpers.course.notebook_io import read_notebook, write_text_atomically

NOTEBOOKS_DIR = Path(__file__).resolve().parents[2] / "notebooks"


# ---- the program: built from the instructor's notebook -----------------------------------------


def _grade_id(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def instructor_program(notebook) -> list:
    """The set-up cells of an instructor notebook (:func:`helpers.course.cells.is_setup`)."""
    return cells.setup_sources(notebook)


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


def expected_cost(program: dict) -> float:
    """A rough relative cost of one run, to start the longest first: importing TensorFlow in the
    set-up is most of a run (measured: 6-7 s of the 9-13 s of 06-08's runs, 1-2 s for the
    others' whole set-up)."""
    return 5.0 if any("tensorflow" in source for source in program["setup"]) else 1.0


def identify(path: Path, assignments, assignment=None):
    """The assignment a submission answers, from ``--assignment`` or its file name, or None."""
    if assignment:
        return assignment if assignment in assignments else None
    matches = [stem for stem in assignments if path.stem.startswith(stem)]
    return max(matches, key=len) if matches else None


# ---- grading ------------------------------------------------------------------------------------


class Grader:
    """Grades submissions against the instructor notebooks in ``course_dir``."""

    def __init__(
        self,
        *,
        course_dir=NOTEBOOKS_DIR,
        sandboxed=True,
        limits=None,
        jobs=1,
        notebook_seconds=None,
        scheduler=None,
        insecure_scheduler=False,
    ):
        self.sandboxed = sandboxed
        self.limits = limits or sandbox.Limits()
        # one set-up (TensorFlow: ~6 s) and every exercise at its own limit, with room to spare
        self.notebook_seconds = notebook_seconds or 30 + self.limits.wall_seconds * 5
        self.course_dir = Path(course_dir)
        self.assignments = sorted({e.notebook for e in EXERCISES.values()})
        self.jobs = max(1, int(jobs))
        self._programs, self._tables = {}, {}
        self._lock = threading.Lock()
        self._workspace = self.client = None
        if scheduler:  # the runs happen on the cluster's workers, each checked there
            from helpers.course import cluster

            self.client = cluster.connect(
                scheduler, sandboxed=sandboxed, insecure=insecure_scheduler
            )
            return
        self.bwrap = sandbox.check_available(sandboxed)
        self._workspace = tempfile.TemporaryDirectory(prefix="dnn-week3-grading-")
        self.workspace = Path(self._workspace.name)
        self.package = sandbox.course_package(self.workspace / "package", set(EXERCISES))
        (self.workspace / "runs").mkdir()
        self.matplotlib_dir = sandbox.matplotlib_cache(self.workspace / "matplotlib")

    def close(self):
        if self.client is not None:
            self.client.close()
        if self._workspace is not None:
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
                    self._tables[function] = EXERCISES[function].cases()
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
        program = {
            "setup": self._setup(assignment),
            "exercise_seconds": self.limits.wall_seconds,
            "exercises": [],
        }
        tables = []
        for exercise in exercises:
            table = self._table(exercise.function)
            tables.append(table)
            program["exercises"].append(
                {
                    "function": exercise.function,
                    "source": sources.get(exercise.function),
                    "dependencies": dependency_sources(table.uses, set(EXERCISES)),
                    "cases": [case.request() for case in table.cases],
                }
            )
        report["_run"] = (exercises, tables, program)
        report["graded"] = True
        return report

    def _run_limits(self):
        return sandbox.Limits(**{**self.limits.__dict__, "wall_seconds": self.notebook_seconds})

    def run(self, program):
        """Run one submission's program here, as a user no other run on this machine has."""
        with sandbox.claim_slot() if self.bwrap else contextlib.nullcontext(0) as slot:
            return sandbox.run_program(
                program,
                self.package,
                bwrap=self.bwrap,
                limits=self._run_limits(),
                slot=slot,
                workspace=self.workspace / "runs",
                matplotlib_dir=self.matplotlib_dir,
            )

    def _run_all(self, programs, progress=None) -> list:
        """A RunResult per program (or why it could not run): on the cluster, or ``--jobs``
        at a time here. The longest runs start first (see :func:`expected_cost`), so a batch
        of mixed notebooks does not end with one long run alone."""
        order = sorted(range(len(programs)), key=lambda i: -expected_cost(programs[i]))
        ordered = [programs[i] for i in order]
        if self.client is not None:
            from helpers.course import cluster

            results = cluster.run_programs(
                self.client,
                ordered,
                self._run_limits(),
                sandboxed=self.sandboxed,
                progress=progress,
            )
        else:
            results = []
            with ThreadPoolExecutor(max_workers=self.jobs) as pool:
                for done, result in enumerate(pool.map(self.run, ordered), start=1):
                    results.append(result)
                    if progress:
                        progress(done, len(programs))
        in_place = [None] * len(programs)
        for i, result in zip(order, results, strict=True):
            in_place[i] = result
        return in_place

    def grade(self, paths, assignment=None, progress=None) -> list:
        """Grade every submission (``--jobs`` at a time, or on the cluster); return one report
        each. ``progress(done, total)`` counts submissions: those that cannot run are done at
        once, the others as each run ends."""
        reports = [self.plan(p, assignment) for p in paths]
        runnable = [r for r in reports if "_run" in r]
        skipped = len(reports) - len(runnable)
        if progress:
            progress(skipped, len(reports))
        results = self._run_all(
            [r["_run"][2] for r in runnable],
            progress and (lambda done, _: progress(skipped + done, len(reports))),
        )
        for report, result in zip(runnable, results, strict=True):
            exercises, tables, _ = report.pop("_run")
            if isinstance(result, str):
                report["graded"] = False
                report["notes"].append(result)
                continue
            report["seconds"] = round(result.seconds, 2)
            report["setup_seconds"] = result.setup_seconds
            if result.setup:
                report["graded"] = False
                report["notes"].append(
                    f"the instructor's set-up cells failed: {result.setup.get('setup_error')}"
                )
            for i, (exercise, table) in enumerate(zip(exercises, tables, strict=True)):
                entry = self._judge(
                    exercise, table, result.exercises[i], result.statuses[i], result.problem
                )
                seconds = (result.statuses[i] or {}).get("seconds")
                entry["seconds"] = round(seconds, 2) if isinstance(seconds, int | float) else None
                report["exercises"].append(entry)
                report["score"] += entry["points"]
        return reports

    def _judge(self, exercise, table, data, status, problem) -> dict:
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
        if data is None:
            if status and status.get("timeout"):
                entry["status"] = "timeout"
                why = f"ran longer than {self.limits.wall_seconds:g} s and was stopped"
            elif status:
                entry["status"] = "crashed"
                code = status.get("status")
                why = (
                    f"was killed by signal {-code}"
                    if isinstance(code, int) and code < 0
                    else f"exited with status {code} before reporting"
                )
            else:
                entry["status"] = "timeout" if problem and "longer" in problem else "crashed"
                why = f"did not finish: the submission's run {problem or 'ended early'}"
            entry["feedback"] = f"✗ {name}: its run {why}"
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
    parser.add_argument(
        "--course-dir",
        type=Path,
        default=NOTEBOOKS_DIR,
        help="folder of the instructor notebooks (default: the repository's notebooks/; "
        "needed where helpers is installed as a package)",
    )
    parser.add_argument("--json", type=Path, help="write the machine-readable report here")
    parser.add_argument("--gradebook", type=Path, help="write a CSV gradebook here")
    parser.add_argument(
        "--item-analysis", type=Path, help="write per-exercise failure shares (JSON + PNG)"
    )
    parser.add_argument("--jobs", type=int, default=1, help="runs at a time (default 1)")
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="grade on the workers of this Dask scheduler (e.g. tcp://host:8786) instead of "
        "here; each worker runs the same sandbox (needs requirements-distributed.txt)",
    )
    parser.add_argument(
        "--insecure-scheduler",
        action="store_true",
        help="allow a plain tcp:// scheduler on another machine (whoever reaches it runs code "
        "as root on its workers: a private network only)",
    )
    parser.add_argument(
        "--timeout", type=float, default=60, help="seconds per exercise (default 60)"
    )
    parser.add_argument(
        "--notebook-timeout",
        type=float,
        help="seconds for all of one submission's runs (default 5 × --timeout)",
    )
    parser.add_argument(
        "--memory-mb", type=int, default=4096, help="address space per process (default 4096)"
    )
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
    if not args.course_dir.is_dir():
        parser.error(f"--course-dir {args.course_dir} is not a folder of instructor notebooks")
    limits = sandbox.Limits(wall_seconds=args.timeout, memory_bytes=args.memory_mb * 1024**2)
    from helpers.course.cluster import ClusterUnavailable

    try:
        grader = Grader(
            course_dir=args.course_dir,
            sandboxed=not args.no_sandbox,
            limits=limits,
            jobs=args.jobs,
            scheduler=args.scheduler,
            insecure_scheduler=args.insecure_scheduler,
        )
    except sandbox.SandboxUnavailable as error:
        print(f"refusing to grade: {error}", file=sys.stderr)
        return 2
    except ClusterUnavailable as error:
        print(f"cannot grade on the cluster: {error}", file=sys.stderr)
        return 2
    if args.no_sandbox:
        print("warning: --no-sandbox: submissions run with your rights", file=sys.stderr)
    if args.notebook_timeout:
        grader.notebook_seconds = args.notebook_timeout

    # over submissions, on a terminal only (None: tqdm draws nothing when stderr is a file)
    bar = tqdm(
        total=len(args.submissions),
        unit="submission",
        desc="grading",
        file=sys.stderr,
        disable=None,
    )

    def progress(done, total):
        bar.update(done - bar.n)

    try:
        reports = grader.grade(args.submissions, args.assignment, progress)
    finally:
        bar.close()
        grader.close()
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
