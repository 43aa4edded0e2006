"""The autograder: ``python -m helpers.course.grade SUBMISSION.ipynb [...] [--json PATH]``.

Only the exercise cells of a submission are the student's. Each submission is read
(:mod:`.grading.submission`), planned (:mod:`.grading.plan`: the instructor notebook's set-up
cells, each exercise cell, the references standing in for the exercises it builds on, the
cases' inputs), run sealed in one sandbox per submission, one process per exercise
(:mod:`.grading.run`, :mod:`helpers.course.sandbox`, :mod:`helpers.course.runner`), judged here
as each exercise ends (:mod:`.grading.verdict`) and reported (:mod:`.grading.reports`). Besides
the public cases a check cell shows, each exercise has hidden cases drawn for the batch from a
fresh seed; their expected values never leave this process.

Before a batch the grader grades the instructor's own solution in the same sandbox
(:mod:`.grading.self_test`). ``--jobs N`` runs N submissions at a time; ``--scheduler
tcp://host:8786`` runs them on the workers of a Dask cluster (:mod:`helpers.course.cluster`).

A failure stays with its submission: whatever goes wrong while reading, planning, running or
judging one marks that one "not graded" with the reason, and every report is still written.
Exit status 0 when every submission was graded, 1 when some could not be (the reports say why),
2 for bad arguments or no sandbox, 3 for a fault in the grader itself (its self-test failed, or
a run failed for a reason outside the student's code).
"""

import argparse
import contextlib
import os
import secrets
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tqdm import tqdm

import helpers

# Case tables of notebooks 06-08 import TensorFlow here: without its start-up banner.
os.environ.update(helpers.TENSORFLOW_QUIET_ENV)

from helpers.checks import EXERCISES
from helpers.course import cells, sandbox
from helpers.course.grading import self_test, verdict
from helpers.course.grading.plan import BatchTables, make_plan
from helpers.course.grading.reports import Report
from helpers.course.grading.run import run_plan
from helpers.course.grading.submission import Unreadable, read_submission
from helpers.course.notebook_io import read_notebook, write_text_atomically

NOTEBOOKS_DIR = Path(__file__).resolve().parents[2] / "notebooks"


def _size_text(limits: sandbox.Limits) -> dict:
    return {
        "cpu": f"{limits.cpu_seconds:g} s",
        "wall": f"{limits.exercise_wall_seconds:g} s",
        "result": f"{limits.result_bytes / 1024**2:g} MB",
    }


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {str(error)[:300]}"


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
        seed=None,
        self_test_first=True,
    ):
        self.sandboxed = sandboxed
        self.limits = limits or sandbox.Limits()
        # one set-up (TensorFlow: ~6 s) and every exercise at its own limit, with room to spare
        self.notebook_seconds = notebook_seconds or 60 + self.limits.exercise_wall_seconds * 5
        self.course_dir = Path(course_dir)
        self.assignments = sorted({e.notebook for e in EXERCISES.values()})
        self.jobs = max(1, int(jobs))
        self.seed = secrets.randbits(63) if seed is None else int(seed)
        self.tables = BatchTables(self.seed)
        self.self_test_first = self_test_first
        self._setups, self._tested = {}, set()
        self._lock, self._judging = threading.Lock(), threading.Lock()
        self._workspace = self.client = self.sealed = None
        if scheduler:  # the runs happen on the cluster's workers, each checked there
            from helpers.course import cluster

            self.where = f"cluster {scheduler} sandboxed={sandboxed}"
            self.client = cluster.connect(
                scheduler, sandboxed=sandboxed, insecure=insecure_scheduler
            )
            return
        self.sealed = sandbox.check_available(sandboxed)
        self.where = repr(self.sealed)
        self._workspace = tempfile.TemporaryDirectory(prefix="dnn-week3-grading-")
        self.workspace = Path(self._workspace.name)
        self.package = sandbox.course_package(self.workspace / "package")
        (self.workspace / "runs").mkdir()
        self.matplotlib_dir = sandbox.matplotlib_cache(self.workspace / "matplotlib")

    def close(self):
        if self.client is not None:
            self.client.close()
        if self._workspace is not None:
            self._workspace.cleanup()

    # ---- reading and planning ---------------------------------------------------------------

    def _setup(self, assignment) -> tuple:
        with self._lock:
            if assignment not in self._setups:
                notebook = read_notebook(self.course_dir / f"{assignment}.ipynb")
                self._setups[assignment] = tuple(cells.setup_sources(notebook))
            return self._setups[assignment]

    def _read(self, path, assignment=None):
        """``(report, plan)``: the plan is None when the submission cannot be graded."""
        report = Report(str(path), None)
        try:
            submission = read_submission(path, self.assignments, assignment)
        except Unreadable as error:
            report.notes.append(str(error))
            return report, None
        except Exception as error:  # whatever the file holds, it stays with this submission
            report.notes.append(f"the grader could not read it: {_describe(error)}")
            return report, None
        try:
            report.notebook = submission.assignment
            report.notes += submission.notes
            report.cells = {f: c.source for f, c in submission.cells.items()}
            functions = [e.function for e in EXERCISES.values() if e.notebook == report.notebook]
            report.max_score = float(sum(EXERCISES[f].points for f in functions))
            tables = [self.tables[f] for f in functions]
            plan = make_plan(self._setup(report.notebook), report.cells, tables)
        except Exception as error:
            report.notes.append(f"the grader could not plan its run: {_describe(error)}")
            return report, None
        report.graded = True
        return report, plan

    def plan(self, path, assignment=None):
        """Read one submission; return its (empty) report and its plan (None: not gradable)."""
        return self._read(path, assignment)

    # ---- running and judging ----------------------------------------------------------------

    def _judge(self, report: Report, index: int, run) -> None:
        table = self.tables[EXERCISES_OF[report.notebook][index]]
        with self._judging:  # Keras and the verifiers' recorders are not shared across threads
            try:
                judged = verdict.judge_run(table, run, _size_text(self.limits))
            except Exception as error:
                judged = verdict.not_run(table, f"could not be judged: {_describe(error)}")
                report.notes.append(f"{table.name}: the grader failed judging it")
        report.verdicts[index] = judged

    def _finish(self, report: Report, result) -> None:
        """Fill ``report`` from a run: its verdicts, or why it was not graded."""
        if isinstance(result, str):  # the cluster could not run it
            report.graded, report.verdicts = False, []
            report.notes.append(result)
            return
        report.seconds = result.seconds
        report.setup_seconds = result.setup_seconds
        if result.grader_fault:
            report.graded, report.grader_fault, report.verdicts = False, True, []
            report.notes.append(f"not graded: a fault of the grader's, not of the submission: "
                                f"{result.grader_fault}")  # fmt: skip
            return
        names = EXERCISES_OF[report.notebook]
        for i, run in enumerate(result.exercises):
            if report.verdicts[i] is None:
                if run is None:
                    report.verdicts[i] = verdict.not_run(self.tables[names[i]], "did not run")
                else:
                    self._judge(report, i, run)

    def _run_here(self, report: Report, plan) -> None:
        report.verdicts = [None] * len(plan.exercises)
        try:
            result = self.run(plan, on_exercise=lambda i, run: self._judge(report, i, run))
            self._finish(report, result)
        except Exception as error:
            report.graded, report.verdicts = False, []
            report.notes.append(f"the grader failed on this submission: {_describe(error)}")

    def run(self, plan, on_exercise=None):
        """Run one plan here; return its RunResult, each exercise handed to ``on_exercise``
        as it ends."""
        claim = sandbox.claim_slot() if self.sealed and self.sealed.as_root else None
        with claim or contextlib.nullcontext(0) as slot:
            return run_plan(
                plan,
                self.package,
                sealed=self.sealed,
                limits=self.limits,
                notebook_seconds=self.notebook_seconds,
                slot=slot,
                workspace=self.workspace / "runs",
                matplotlib_dir=self.matplotlib_dir,
                on_exercise=on_exercise,
            )

    def _run_all(self, jobs: list, progress=None) -> None:
        """Run ``(report, plan)`` jobs, the longest first (see Plan.cost), ``--jobs`` at a time
        here or on the cluster; each report is filled as its run ends."""
        order = sorted(jobs, key=lambda job: -job[1].cost)
        if self.client is not None:
            from helpers.course import cluster

            results = cluster.run_plans(
                self.client,
                [plan.as_data() for _, plan in order],
                self.limits,
                self.notebook_seconds,
                sandboxed=self.sandboxed,
                progress=progress,
            )
            for (report, plan), result in zip(order, results, strict=True):
                report.verdicts = [None] * len(plan.exercises)
                try:
                    self._finish(report, result)
                except Exception as error:
                    report.graded, report.verdicts = False, []
                    report.notes.append(f"the grader failed on this submission: {_describe(error)}")
            return
        with ThreadPoolExecutor(max_workers=self.jobs) as pool:
            futures = [pool.submit(self._run_here, report, plan) for report, plan in order]
            for done, future in enumerate(futures, start=1):
                future.result()
                if progress:
                    progress(done, len(futures))

    def _self_test(self, assignments) -> None:
        """Grade the instructor's solution of each of ``assignments`` not yet known to pass,
        all in one go; raise GraderFault unless each gets full marks."""
        folder = self_test.cache_dir()
        pending = []
        for assignment in sorted(set(assignments) - self._tested):
            notebook = self.course_dir / f"{assignment}.ipynb"
            version = self_test.course_version(notebook, self.where, self.limits)
            if self_test.passed_before(folder, version):
                self._tested.add(assignment)
            else:
                pending.append((assignment, version, *self._read(notebook, assignment)))
        self._run_all([(report, plan) for _, _, report, plan in pending if plan is not None])
        for assignment, version, report, _ in pending:
            self_test.check_full_marks(assignment, report)
            self_test.remember(folder, version, assignment)
            self._tested.add(assignment)

    def grade_reports(self, paths, assignment=None, progress=None) -> list:
        """Grade every submission; return a :class:`Report` each. Raises GraderFault when the
        grader's self-test fails. ``progress(done, total)`` counts submissions."""
        read = [self._read(Path(p), assignment) for p in paths]
        if self.self_test_first:
            self._self_test({r.notebook for r, plan in read if plan is not None})
        runnable = [(r, plan) for r, plan in read if plan is not None]
        skipped = len(read) - len(runnable)
        if progress:
            progress(skipped, len(read))
        self._run_all(runnable, progress and (lambda done, _: progress(skipped + done, len(read))))
        return [report for report, _ in read]

    def grade(self, paths, assignment=None, progress=None) -> list:
        """Grade every submission; return each report as its JSON form (see ``--json``)."""
        return [r.as_dict() for r in self.grade_reports(paths, assignment, progress)]


EXERCISES_OF = {
    notebook: [e.function for e in EXERCISES.values() if e.notebook == notebook]
    for notebook in {e.notebook for e in EXERCISES.values()}
}


# ---- the command line ---------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
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
    parser.add_argument(
        "--json", type=Path, help="write the report here: a list, one entry per submission"
    )
    parser.add_argument(
        "--format",
        choices=("json", "gradescope"),
        default="json",
        help="what --json writes: the grader's report, or Gradescope's results.json (one "
        "submission)",
    )
    parser.add_argument("--gradebook", type=Path, help="write a CSV gradebook here")
    parser.add_argument(
        "--item-analysis", type=Path, help="write per-exercise failure shares (JSON + PNG)"
    )
    parser.add_argument(
        "--feedback", type=Path, metavar="DIR", help="write one HTML page per submission here"
    )
    parser.add_argument(
        "--similarity",
        type=Path,
        metavar="PATH",
        help="write the pairs of exercise cells that match after normalising (JSON)",
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
        "--timeout",
        type=float,
        default=60,
        help="CPU seconds per exercise, its own processes together (default 60)",
    )
    parser.add_argument(
        "--notebook-timeout",
        type=float,
        help="seconds for all of one submission's runs (default 60 + 5 × the exercise's)",
    )
    parser.add_argument(
        "--memory-mb", type=int, default=4096, help="address space per process (default 4096)"
    )
    parser.add_argument(
        "--seed",
        type=int,
        help="the hidden cases' seed, to grade a batch again with the same inputs (default: "
        "fresh; the JSON report records it; never tell students)",
    )
    parser.add_argument(
        "--no-sandbox",
        action="store_true",
        help="run submissions without bubblewrap (trusted submissions only)",
    )
    return parser


def write_outputs(reports: list, args, *, seed: int) -> None:
    """Print each report's table and write every file the command line asked for."""
    from helpers.course.grading import reports as reporting

    data = [r.as_dict() for r in reports]
    for report in data:
        print(reporting.format_report(report), flush=True)
    if args.json and args.format == "gradescope":
        from helpers.course.grading import gradescope

        reporting.write_json(gradescope.results(reports[0]), args.json)
    elif args.json:
        reporting.write_json([{**r, "hidden_seed": seed} for r in data], args.json)
    if args.gradebook:
        functions = list(EXERCISES)
        write_text_atomically(reporting.gradebook_csv(data, functions), args.gradebook)
    if args.item_analysis:
        analysis = reporting.item_analysis(data)
        reporting.write_json(analysis, args.item_analysis.with_suffix(".json"))
        reporting.item_analysis_chart(analysis, args.item_analysis.with_suffix(".png"))
    if args.feedback:
        from helpers.course.grading import feedback

        feedback.write_pages(reports, args.feedback)
    if args.similarity:
        from helpers.course.grading import similarity

        reporting.write_json(similarity.report(reports, args.course_dir), args.similarity)


def main(argv=None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.timeout <= 0 or args.jobs < 1:
        parser.error("--timeout must be positive and --jobs at least 1")
    if args.assignment and args.assignment not in {e.notebook for e in EXERCISES.values()}:
        parser.error(f"--assignment {args.assignment!r} is not a graded notebook")
    if not args.course_dir.is_dir():
        parser.error(f"--course-dir {args.course_dir} is not a folder of instructor notebooks")
    if args.format == "gradescope" and (len(args.submissions) != 1 or not args.json):
        parser.error("--format gradescope grades one submission and needs --json PATH")
    limits = sandbox.Limits(cpu_seconds=args.timeout, memory_bytes=args.memory_mb * 1024**2)
    from helpers.course.cluster import ClusterUnavailable

    try:
        grader = Grader(
            course_dir=args.course_dir,
            sandboxed=not args.no_sandbox,
            limits=limits,
            jobs=args.jobs,
            notebook_seconds=args.notebook_timeout,
            scheduler=args.scheduler,
            insecure_scheduler=args.insecure_scheduler,
            seed=args.seed,
        )
    except sandbox.SandboxUnavailable as error:
        print(f"refusing to grade: {error}", file=sys.stderr)
        return 2
    except ClusterUnavailable as error:
        print(f"cannot grade on the cluster: {error}", file=sys.stderr)
        return 2
    if args.no_sandbox:
        print("warning: --no-sandbox: submissions run with your rights", file=sys.stderr)
    # over submissions, on a terminal only (None: tqdm draws nothing when stderr is a file)
    bar = tqdm(
        total=len(args.submissions), unit="submission", desc="grading", file=sys.stderr,
        disable=None,
    )  # fmt: skip
    try:
        reports = grader.grade_reports(
            args.submissions, args.assignment, lambda done, _: bar.update(done - bar.n)
        )
    except self_test.GraderFault as error:
        print(f"grader fault: {error}", file=sys.stderr)
        return 3
    finally:
        bar.close()
        grader.close()
    write_outputs(reports, args, seed=grader.seed)
    ungraded = [r for r in reports if not r.graded]
    for report in ungraded:
        print(f"could not grade {report.submission!r}: {'; '.join(report.notes)}")
    if any(r.grader_fault for r in reports):
        return 3
    return 1 if ungraded else 0


if __name__ == "__main__":
    sys.exit(main())
