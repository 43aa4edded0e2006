"""Judging: an exercise's run becomes a :class:`Verdict`, in the grader's process.

Scoring is all or nothing per exercise: its points when every case passes, the public ones and
the hidden ones, else 0. Every failing case is explained (a hidden one without its expected
value). Whatever the run sent back is untrusted data: anything that cannot be read fails the
case it was meant for, or the exercise, and nothing else.
"""

import contextlib
import io
import json
from dataclasses import dataclass, field

from helpers.checks.cases import judge
from helpers.course.grading.plan import ExerciseTable
from helpers.course.grading.run import ExerciseRun


@dataclass
class CaseVerdict:
    case: str
    passed: bool
    hidden: bool
    message: str | None  # why it failed, written for the student


@dataclass
class Verdict:
    """The grade of one exercise of one submission."""

    function: str
    grade_id: str
    points: float
    max_points: float
    status: str  # passed, failed, missing, crashed, timeout, not run
    feedback: str
    cases: list = field(default_factory=list)  # CaseVerdict per case, public then hidden
    seconds: float | None = None

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def as_dict(self) -> dict:
        public = [c for c in self.cases if not c.hidden]
        hidden = [c for c in self.cases if c.hidden]
        return {
            "grade_id": self.grade_id,
            "function": self.function,
            "points": self.points,
            "max_points": self.max_points,
            "passed": self.passed,
            "status": self.status,
            "feedback": self.feedback,
            "cases": [{"case": c.case, "passed": c.passed} for c in public],
            "hidden_cases": {
                "passed": sum(c.passed for c in hidden),
                "total": len(hidden),
                "cases": [{"case": c.case, "passed": c.passed} for c in hidden],
            },
            "seconds": self.seconds,
        }


def _empty(table: ExerciseTable, status: str, feedback: str, seconds=None) -> Verdict:
    exercise = table.exercise
    return Verdict(
        exercise.function,
        exercise.check_grade_id,
        0.0,
        float(exercise.points),
        status,
        feedback,
        [CaseVerdict(c.name, False, c.hidden, None) for c in table.cases],
        seconds,
    )


def _stopped(run: ExerciseRun, limits_text: dict) -> tuple:
    if run.stopped == "cpu":
        return "timeout", f"used more than {limits_text['cpu']} of CPU time and was stopped"
    if run.stopped == "wall":
        return "timeout", f"ran longer than {limits_text['wall']} and was stopped"
    if run.stopped == "too large":
        return "crashed", f"returned more than {limits_text['result']} of results"
    if run.stopped == "out of time":
        return "not run", "did not run: the submission's runs together took too long"
    if run.stopped == "sandbox ended":
        return "crashed", "ended its sandbox (everything it ran was stopped)"
    code = run.exit_code
    if isinstance(code, int) and code < 0:
        return "crashed", f"was killed by signal {-code}"
    return "crashed", f"exited with status {code} before reporting"


def judge_run(table: ExerciseTable, run: ExerciseRun, limits_text: dict) -> Verdict:
    """The verdict of one exercise from what its run sent back. Never raises."""
    name = table.name
    seconds = round(run.seconds, 2)
    if run.raw is None:
        status, why = _stopped(run, limits_text)
        return _empty(table, status, f"✗ {name}: its run {why}", seconds)
    try:
        data = json.loads(run.raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        data = None
    if not isinstance(data, dict):
        return _empty(table, "crashed", f"✗ {name}: its run returned unreadable results", seconds)
    cell_error = data.get("cell_error")
    cell_error = str(cell_error)[:2000] if cell_error else None
    observations = data.get("observations")
    if data.get("found") is not True or not isinstance(observations, list):
        feedback = (
            f"✗ {name} is not defined: was its exercise cell deleted, renamed, or did it fail "
            "to run?"
        )
        if cell_error:
            feedback = f"the exercise cell raised {cell_error}\n{feedback}"
        return _empty(table, "missing", feedback, seconds)
    verdicts, failures = [], []
    padded = observations[: len(table.cases)] + [None] * (len(table.cases) - len(observations))
    for case, raw in zip(table.cases, padded, strict=True):
        with contextlib.redirect_stdout(io.StringIO()):
            message = judge(name, case, raw, table.table.arg_names)
        verdicts.append(CaseVerdict(case.name, message is None, case.hidden, message))
        if message:
            failures.append(message)
    exercise = table.exercise
    if failures:
        feedback = "\n".join(failures)
        if cell_error:
            feedback = f"the exercise cell raised {cell_error}\n{feedback}"
        return Verdict(
            name, exercise.check_grade_id, 0.0, float(exercise.points), "failed", feedback,
            verdicts, seconds,
        )  # fmt: skip
    public = sum(not c.hidden for c in table.cases)
    hidden = len(table.cases) - public
    return Verdict(
        name,
        exercise.check_grade_id,
        float(exercise.points),
        float(exercise.points),
        "passed",
        f"✓ {name}: {public}/{public} checks passed, and {hidden}/{hidden} hidden cases",
        verdicts,
        seconds,
    )


def not_run(table: ExerciseTable, why: str) -> Verdict:
    """The verdict of an exercise that never ran (the submission could not be run)."""
    return _empty(table, "not run", f"✗ {table.name}: {why}")
