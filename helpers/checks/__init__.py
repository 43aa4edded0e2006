"""Checks for every graded function: ``check_<name>(student_function)``.

A check runs table-driven cases against the student's function. It passes quietly with one
line (``✓ softmax: 7/7 checks passed``) or raises :class:`CheckFailure` whose message names the
case, the input, what was expected, what came back and the likely mistake — never a traceback
from inside the checker. Running it again after the same failure, or ``hint("softmax")``, gives
the next hint; ``show_solution("softmax")`` shows the course's solution, and ``progress`` then
says so (:mod:`helpers.checks.hints`). Expected values come from independent computations (plain
Python ``math`` on small inputs) or from the reference implementations in the topic modules.
"""

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

from helpers import batchnorm as ref_batchnorm
from helpers import sampling as ref_sampling
from helpers import search as ref_search
from helpers import softmax as ref_softmax
from helpers import tf_digits as ref_tf_digits
from helpers import tf_quadratic as ref_tf_quadratic
from helpers import tuning as ref_tuning
from helpers.checks import (
    batchnorm,
    hints,
    sampling,
    search,
    softmax,
    tf_digits,
    tf_quadratic,
    tuning,
)
from helpers.checks.batchnorm import (
    check_batchnorm_backward,
    check_batchnorm_forward,
    check_batchnorm_inference,
    check_update_running_averages,
)
from helpers.checks.cases import CaseTable, CheckFailure
from helpers.checks.driver import quietly
from helpers.checks.sampling import check_sample_beta, check_sample_log_uniform
from helpers.checks.search import check_grid_search, check_random_search, check_zoom_in
from helpers.checks.softmax import (
    check_cross_entropy_cost,
    check_one_hot,
    check_softmax,
    check_softmax_regression_step,
)
from helpers.checks.stand_ins import is_stand_in
from helpers.checks.tf_digits import check_build_model, check_compute_total_loss, check_train_step
from helpers.checks.tf_quadratic import check_minimize_quadratic, check_quadratic_cost
from helpers.checks.tuning import check_suggest_hyperparameters

__all__ = [
    "EXERCISES",
    "CheckFailure",
    "Exercise",
    "check_batchnorm_backward",
    "check_batchnorm_forward",
    "check_batchnorm_inference",
    "check_build_model",
    "check_compute_total_loss",
    "check_cross_entropy_cost",
    "check_grid_search",
    "check_minimize_quadratic",
    "check_one_hot",
    "check_quadratic_cost",
    "check_random_search",
    "check_sample_beta",
    "check_sample_log_uniform",
    "check_softmax",
    "check_softmax_regression_step",
    "check_suggest_hyperparameters",
    "check_train_step",
    "check_update_running_averages",
    "check_zoom_in",
    "hint",
    "progress",
    "show_solution",
]


@dataclass(frozen=True)
class Exercise:
    """A graded function: its notebook, its points, its check and case tables, its reference.

    In the notebook, the exercise cell's nbgrader ``grade_id`` is the function's name and the
    check cell's is ``check_<name>``, calling ``check_<name>(<name>)``. The check cell runs the
    public ``cases()``; the grader runs them too, and ``hidden_cases(rng)``, drawn when grading.
    """

    notebook: str
    function: str
    points: int
    cases: Callable[[], CaseTable]
    hidden_cases: Callable  # (numpy Generator) -> list of Case, each with hidden=True
    check: Callable[[Callable], None]
    reference: Callable

    @property
    def check_grade_id(self) -> str:
        return f"check_{self.function}"


def _exercise(notebook: str, function: str, points: int, checks: ModuleType, lesson: ModuleType):
    """The exercise ``function`` of ``notebook``: its tables and check from the check module
    ``checks`` (``<function>_cases``, ``<function>_hidden_cases``, ``check_<function>``), its
    reference from the lesson module."""
    return Exercise(
        notebook,
        function,
        points,
        getattr(checks, f"{function}_cases"),
        getattr(checks, f"{function}_hidden_cases"),
        getattr(checks, f"check_{function}"),
        getattr(lesson, function),
    )


EXERCISES = {
    e.function: e
    for e in [
        _exercise("01_tuning_process", "grid_search", 2, search, ref_search),
        _exercise("01_tuning_process", "random_search", 2, search, ref_search),
        _exercise("01_tuning_process", "zoom_in", 2, search, ref_search),
        _exercise("02_appropriate_scale", "sample_log_uniform", 2, sampling, ref_sampling),
        _exercise("02_appropriate_scale", "sample_beta", 2, sampling, ref_sampling),
        _exercise("03_batchnorm_from_scratch", "batchnorm_forward", 2, batchnorm, ref_batchnorm),
        _exercise("03_batchnorm_from_scratch", "batchnorm_backward", 3, batchnorm, ref_batchnorm),
        _exercise("04_batchnorm_test_time", "update_running_averages", 1, batchnorm, ref_batchnorm),
        _exercise("04_batchnorm_test_time", "batchnorm_inference", 2, batchnorm, ref_batchnorm),
        _exercise("05_softmax_regression", "softmax", 2, softmax, ref_softmax),
        _exercise("05_softmax_regression", "one_hot", 1, softmax, ref_softmax),
        _exercise("05_softmax_regression", "cross_entropy_cost", 2, softmax, ref_softmax),
        _exercise("05_softmax_regression", "softmax_regression_step", 3, softmax, ref_softmax),
        _exercise("06_tensorflow_quadratic", "quadratic_cost", 1, tf_quadratic, ref_tf_quadratic),
        _exercise(
            "06_tensorflow_quadratic", "minimize_quadratic", 2, tf_quadratic, ref_tf_quadratic
        ),
        _exercise("07_tensorflow_digits", "build_model", 1, tf_digits, ref_tf_digits),
        _exercise("07_tensorflow_digits", "compute_total_loss", 2, tf_digits, ref_tf_digits),
        _exercise("07_tensorflow_digits", "train_step", 2, tf_digits, ref_tf_digits),
        _exercise("08_tuning_in_practice", "suggest_hyperparameters", 2, tuning, ref_tuning),
    ]
}


def _exercise_named(name) -> Exercise:
    if name not in EXERCISES:
        raise ValueError(
            f"name must be one of the exercises ({', '.join(EXERCISES)}), got {name!r}"
        )
    return EXERCISES[name]


def hint(name: str) -> None:
    """Print the next hint of exercise ``name`` (e.g. ``hint("batchnorm_backward")``).

    A failing check gives the diagnosis; each call gives one rung more, the same rung a check run
    again after the same failure would add: the idea, then the tools, then the code shape (for
    a derivation, an intermediate result). After the last, ``show_solution(name)``.
    """
    ladder = _exercise_named(name).cases().ladder
    total = len(ladder) + 1
    shown = hints.climb(name, total)
    lines = hints.rung_lines(shown, total, ladder[shown - 2], indent="")
    lines[0] = f"{name} — {lines[0]}"
    print("\n".join([*lines, hints.next_step(name, shown, total, indent="")]))


def _helpers_used(function) -> list:
    """The module's private functions that ``function`` calls (argument checks and the like),
    so that the solution shown is complete."""
    module = inspect.getmodule(function)
    used = []
    for name in function.__code__.co_names:
        helper = getattr(module, name, None)
        if name.startswith("_") and inspect.isfunction(helper) and helper not in used:
            used.append(helper)
    return used


def show_solution(name: str) -> None:
    """Print the course's solution of exercise ``name``; the progress cell will then say that it
    passed "with the solution shown". Try the hints first: ``hint(name)``."""
    exercise = _exercise_named(name)
    hints.mark_solution_shown(name)
    parts = [inspect.getsource(f) for f in _helpers_used(exercise.reference)]
    parts.append(inspect.getsource(exercise.reference))
    module = exercise.reference.__module__.replace(".", "/")
    print(
        f"The course's solution of {name} (from {module}.py); the progress cell will say it "
        "passed with the solution shown.\n"
    )
    print("\n\n".join(part.rstrip() for part in parts))


def _status(exercise: Exercise, namespace: dict) -> tuple:
    """``(passed, line)`` for one exercise, from running its check quietly now."""
    name = exercise.function
    function = namespace.get(name)
    if function is None:
        return False, f"✗ {name} — not defined yet: run its exercise cell"
    if is_stand_in(function):
        return False, (
            f"✗ {name} — not passing yet: the cells after its check used the course's version"
        )
    try:
        with quietly():
            exercise.check(function)
    except CheckFailure as failure:
        first = str(failure).splitlines()[0].removeprefix("✗ ").strip()
        if "NotImplementedError" in str(failure) and f"raised in {name})" in str(failure):
            first = f"{name} — not written yet (its cell still has raise NotImplementedError())"
        return False, f"✗ {first}"
    if hints.solution_shown(name):
        return True, f"✓ {name} — passed with the solution shown"
    return True, f"✓ {name}"


def progress(notebook: str, namespace: dict) -> None:
    """Print which of ``notebook``'s exercises pass now, one line each.

    Each check runs again, quietly, on the function ``namespace`` (a notebook's ``globals()``)
    holds under the exercise's name, so the answer is computed here, never stored.

    Args:
        notebook: the notebook's name without ``.ipynb``, e.g. ``"05_softmax_regression"``.
        namespace: where the exercise functions are defined, usually ``globals()``.
    """
    exercises = [e for e in EXERCISES.values() if e.notebook == notebook]
    if not exercises:
        known = sorted({e.notebook for e in EXERCISES.values()})
        raise ValueError(
            f"notebook must be one with exercises ({', '.join(known)}), got {notebook!r}"
        )
    if not isinstance(namespace, dict):
        raise TypeError(
            f"namespace must be a dict such as globals(), got {type(namespace).__name__}"
        )
    results = [_status(e, namespace) for e in exercises]
    passed = [e for e, (ok, _) in zip(exercises, results, strict=True) if ok]
    lines = [f"Your exercises in {notebook}, checked now:"]
    lines += [f"  {line}" for _, line in results]
    lines.append(
        f"{len(passed)} of {len(exercises)} pass "
        f"({sum(e.points for e in passed)} of {sum(e.points for e in exercises)} points)"
    )
    print("\n".join(lines))
