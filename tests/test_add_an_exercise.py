"""docs/MAINTAINING.md's "Add an exercise" checklist, followed step by step on a throwaway
exercise (``sample_momentum`` in lesson 02) in a copy of the repository: the student copy is
released, its check fails with a message and passes with the solution, and the grader gives it
full marks. If the checklist goes stale, this test fails at the step that no longer works."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from reading_time import estimate, stated  # tests/ is on sys.path under pytest

from helpers.course import cells
from helpers.course.notebook_io import make_client

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = "02_appropriate_scale"
pytestmark = pytest.mark.slow

# Step 1: the reference, in the lesson module
REFERENCE = '''

def sample_momentum(low, high, size, rng):
    """Return an array of shape (size,) of momentum β drawn uniformly from [low, high].

    Args:
        low, high: the range, 0 <= low < high < 1.
        size: number of samples.
        rng: numpy.random.Generator.
    """
    if not 0 <= low < high < 1:
        raise ValueError(f"need 0 <= low < high < 1, got low={low}, high={high}")
    return rng.uniform(low, high, size)
'''

# Step 2: the check — public cases that separate the plausible mistakes, hidden cases, a ladder
# of three hints ending in the code shape, check_<name>
CHECK = '''

_MOMENTUM_IDEA = "every β between low and high must be as likely as any other"
_MOMENTUM_FIXED = (
    "your values ignore the range you were given: the bounds must come from the low and high "
    "arguments, not from numbers written in the code"
)
_MOMENTUM_RANGE = "check that 0 <= low < high < 1 before sampling, and raise ValueError otherwise"


def sample_momentum_cases() -> CaseTable:
    """The public cases of ``sample_momentum(low, high, size, rng)``: β uniform in [low, high]."""
    rng = np.random.default_rng
    n = 20_000
    quarters = list(np.linspace(0.1, 0.3, 5))
    cases = [
        Case(
            "β in [0.1, 0.3], far from the usual range",
            (0.1, 0.3, n, rng(0)),
            _spread_like(
                n, 0.1, 0.3, lambda b: b, quarters, "β per quarter of the range",
                outside=lambda values: _MOMENTUM_FIXED,
            ),
            _MOMENTUM_IDEA,
        ),
        _seeded_case("the given generator decides the values", (0.8, 0.95, 50), _OWN_GENERATOR),
        Case(
            "high = 1 would average forever",
            (0.9, 1.0, 10, rng(1)),
            None,
            _MOMENTUM_RANGE,
            expect_error=ValueError,
        ),
    ]
    ladder = (
        Rung("the idea", "Every β in the range is as likely as any other: no log scale here."),
        Rung("the tools", "The generator you are given draws uniformly from a range."),
        Rung(
            "the code shape",
            "if the range is not 0 <= low < high < 1:\\n    raise ValueError(...)\\n"
            "return the generator's uniform draws between low and high, size of them",
        ),
    )
    return CaseTable(
        "sample_momentum", tuple(cases), _ARGS, ref_sampling.sample_momentum, ladder=ladder
    )


def sample_momentum_hidden_cases(rng) -> list:
    """A range drawn from ``rng``."""
    low = float(rng.uniform(0, 0.5))
    high = low + float(rng.uniform(0.1, 0.4))
    edges = list(np.linspace(low, high, 4))
    return [
        Case(
            "a random range",
            (low, high, 20_000, _generator(rng)),
            _spread_like(20_000, low, high, lambda b: b, edges, "β per third of the range"),
            "uniform between low and high, for any range",
            hidden=True,
        )
    ]


def check_sample_momentum(sample_momentum) -> None:
    """Check ``sample_momentum(low, high, size, rng)``: uniform β in [low, high]."""
    run_cases(sample_momentum_cases(), sample_momentum)
'''

STATEMENT = (
    "**Exercise 3 — `sample_momentum(low, high, size, rng)`.** Return `size` values of β drawn "
    "uniformly from `[low, high]`."
)
SOLUTION = """def sample_momentum(low, high, size, rng):
    ### BEGIN SOLUTION
    if not 0 <= low < high < 1:
        raise ValueError(f"need 0 <= low < high < 1, got low={low}, high={high}")
    return rng.uniform(low, high, size)
    ### END SOLUTION"""
# Step 5: five plausible wrong answers, each with the case that rejects it and its diagnosis, and a
# correct one written otherwise, in tests/test_checks.py
TEST_ROWS = """

@wrong("sample_momentum", "far from the usual range", "ignore the range you were given")
def sample_momentum_fixed_range(low, high, size, rng):
    return rng.uniform(0.9, 0.999, size)


@wrong("sample_momentum", "far from the usual range", "as likely as any other")
def sample_momentum_squared(low, high, size, rng):
    return low + (high - low) * rng.random(size) ** 2


@wrong("sample_momentum", "far from the usual range", "a single number")
def sample_momentum_one_value(low, high, size, rng):
    return rng.uniform(low, high)


@wrong("sample_momentum", "the given generator", "global random functions")
def sample_momentum_global_state(low, high, size, rng):
    np.random.seed(7)  # seeded so that the spread case is not left to luck
    return np.random.uniform(low, high, size)


@wrong("sample_momentum", "high = 1", "check that 0 <= low < high < 1")
def sample_momentum_unchecked(low, high, size, rng):
    return rng.uniform(low, high, size)


@right("sample_momentum")
def sample_momentum_scaled(low, high, size, rng):
    if not 0 <= low < high < 1:
        raise ValueError("need 0 <= low < high < 1")
    return low + (high - low) * rng.random(size)
"""

NBGRADER = {"grade": False, "locked": False, "schema_version": 3, "solution": True, "task": False}


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, f"{path.name}: the checklist's anchor {old!r} is gone"
    path.write_text(text.replace(old, new))


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A copy of the repository with the new exercise added by the checklist's steps."""
    copy = tmp_path_factory.mktemp("course")
    for name in ("helpers", "data"):
        shutil.copytree(ROOT / name, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "notebooks").mkdir()
    shutil.copy(ROOT / "notebooks" / f"{NOTEBOOK}.ipynb", copy / "notebooks")
    shutil.copy(ROOT / "notebooks" / "00_index.ipynb", copy / "notebooks")
    # the copy's data folder is the package's shipped data, as pyproject maps it
    shutil.copytree(copy / "data", copy / "helpers" / "shipped_data", dirs_exist_ok=True)

    # 1. reference
    with open(copy / "helpers" / "sampling.py", "a") as handle:
        handle.write(REFERENCE)
    # 2. check
    checks = copy / "helpers" / "checks" / "sampling.py"
    with open(checks, "a") as handle:
        handle.write(CHECK)
    assert "from helpers.checks.hints import Rung" in checks.read_text()
    # 3. register
    registry = copy / "helpers" / "checks" / "__init__.py"
    edit(registry, "import check_sample_beta, check_sample_log_uniform",
         "import (\n    check_sample_beta,\n    check_sample_log_uniform,\n"
         "    check_sample_momentum,\n)")  # fmt: skip
    edit(registry, '    "check_sample_log_uniform",\n',
         '    "check_sample_log_uniform",\n    "check_sample_momentum",\n')  # fmt: skip
    beta_row = re.search(r'\n( *)_exercise\("02_appropriate_scale", "sample_beta".*\n',
                         registry.read_text())  # fmt: skip
    edit(registry, beta_row[0], beta_row[0] + f'{beta_row[1]}_exercise("02_appropriate_scale", '
         '"sample_momentum", 2, sampling, ref_sampling),\n')  # fmt: skip
    # 4. notebook: statement, exercise cell, check cell; the check imported in the set-up cell
    path = copy / "notebooks" / f"{NOTEBOOK}.ipynb"
    nb = nbformat.read(path, as_version=4)
    setup = next(c for c in nb.cells if cells.is_setup(c))
    assert "check_sample_beta" in setup.source
    setup.source = setup.source.replace(
        "check_sample_beta", "check_sample_beta, check_sample_momentum", 1
    )
    at = next(i for i, c in enumerate(nb.cells) if cells.grade_id(c) == "check_sample_beta") + 1
    nb.cells[at:at] = [
        nbformat.v4.new_markdown_cell(STATEMENT),
        nbformat.v4.new_code_cell(
            SOLUTION, metadata={"nbgrader": {**NBGRADER, "grade_id": "sample_momentum"}}
        ),
        nbformat.v4.new_code_cell(
            "check_sample_momentum(sample_momentum)",
            metadata={
                "nbgrader": {
                    "grade": True,
                    "grade_id": "check_sample_momentum",
                    "locked": True,
                    "points": 2,
                    "schema_version": 3,
                    "solution": False,
                    "task": False,
                }
            },
        ),
    ]
    nbformat.write(nb, path)
    return copy


@pytest.fixture(scope="module")
def finished(course):
    """The copy after steps 5 and 6: the test rows, slide metadata, the stated times, executed."""
    for path in (ROOT / "notebooks").glob("*.ipynb"):
        if not (course / "notebooks" / path.name).exists():
            shutil.copy(path, course / "notebooks")
    (course / "tests").mkdir()
    shutil.copy(ROOT / "requirements.in", course)  # the pins the index's import check reads
    for name in ("conftest.py", "test_checks.py", "test_notebook_structure.py",
                 "test_reading_time.py", "reading_time.py", "nbval_sanitize.cfg"):  # fmt: skip
        shutil.copy(ROOT / "tests" / name, course / "tests")
    # 5. the wrong answers and a right one
    with open(course / "tests" / "test_checks.py", "a") as handle:
        handle.write(TEST_ROWS)
    # 6. slide metadata; the stated time, the section's speaker-notes minutes and the week's
    # total follow the estimate; then the notebook is executed in place
    done = run(course, "-m", "helpers.course.slides", "annotate", f"notebooks/{NOTEBOOK}.ipynb")
    assert done.returncode == 0, done.stdout + done.stderr
    path = course / "notebooks" / f"{NOTEBOOK}.ipynb"
    nb = nbformat.read(path, as_version=4)
    old, new = stated(nb).main, round(estimate(nb).main)
    first = nb.cells[0]
    assert f"**Time:** {old} minutes" in first.source
    first.source = first.source.replace(f"**Time:** {old} minutes", f"**Time:** {new} minutes")
    at = next(i for i, c in enumerate(nb.cells) if cells.grade_id(c) == "sample_momentum")
    notes = next(c for c in reversed(nb.cells[:at]) if cells.is_notes(c))
    minutes = int(re.search(r"· (\d+) min", notes.source)[1])
    notes.source = notes.source.replace(f"· {minutes} min", f"· {minutes + new - old} min", 1)
    nbformat.write(nb, path)
    index = course / "notebooks" / "00_index.ipynb"
    total = re.search(r"The week's lessons: (\d+) minutes", index.read_text())[1]
    edit(index, f"The week's lessons: {total} minutes",
         f"The week's lessons: {int(total) + new - old} minutes")  # fmt: skip
    done = run(course, "-m", "helpers.course.execute", "--in-place", str(path))
    assert done.returncode == 0, done.stdout + done.stderr
    return course


def env_for(copy: Path) -> dict:
    """This environment, with the copy's helpers found first."""
    return {**os.environ, "PYTHONPATH": str(copy)}


def run(copy: Path, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=copy, env=env_for(copy),
                          capture_output=True, text=True, timeout=900)  # fmt: skip


def execute(copy: Path, path: Path) -> nbformat.NotebookNode:
    nb = nbformat.read(path, as_version=4)
    client = make_client(nb, cwd=path.parent, timeout=600, allow_errors=True)
    client.execute(cwd=str(path.parent), env=env_for(copy))
    return nb


def check_output(nb, name: str) -> str:
    cell = next(c for c in nb.cells if cells.grade_id(c) == f"check_{name}")
    return "".join(
        o.get("text", "") + o.get("evalue", "") + "".join(o.get("traceback", []))
        for o in cell.outputs
    )


def test_the_instructor_notebook_passes_its_new_check(course):
    nb = execute(course, course / "notebooks" / f"{NOTEBOOK}.ipynb")
    assert "✓ sample_momentum" in check_output(nb, "sample_momentum")


def test_the_student_copy_is_released_and_its_check_explains_the_failure(course):
    done = run(course, "-m", "helpers.course.release", "--out", "student",
               f"notebooks/{NOTEBOOK}.ipynb")  # fmt: skip
    assert done.returncode == 0, done.stderr
    student = course / "student" / f"{NOTEBOOK}.ipynb"
    copy = nbformat.read(student, as_version=4)
    exercise = next(c for c in copy.cells if cells.grade_id(c) == "sample_momentum")
    assert "BEGIN SOLUTION" not in exercise.source and "NotImplementedError" in exercise.source
    output = check_output(execute(course, student), "sample_momentum")
    assert '✗ sample_momentum — case "' in output, output
    assert "Traceback" not in output and "run_cases" not in output


def test_the_grader_gives_the_solution_full_marks(course, tmp_path):
    submission = tmp_path / f"{NOTEBOOK}-alice.ipynb"
    shutil.copy(course / "notebooks" / f"{NOTEBOOK}.ipynb", submission)
    report = tmp_path / "report.json"
    done = run(course, "-m", "helpers.course.grade", "--no-sandbox", "--course-dir",
               str(course / "notebooks"), "--json", str(report), str(submission))  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    (graded,) = json.loads(report.read_text())
    exercise = next(e for e in graded["exercises"] if e["function"] == "sample_momentum")
    assert exercise["points"] == exercise["max_points"] == 2
    assert graded["score"] == graded["max_score"]


def test_the_test_rows_and_the_notebook_rules_hold_for_the_new_exercise(finished):
    """Steps 5 and 6: the catalogue of wrong answers, the ladder, the registry's points, the
    slide metadata, the speaker notes, the stated time and the week's total all pass."""
    done = run(finished, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not slow",
               "tests/test_checks.py", "-k", "sample_momentum")  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:]
    assert re.search(r"(1[0-9]|[2-9][0-9]) passed", done.stdout), done.stdout[-500:]
    done = run(finished, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not slow",
               "tests/test_notebook_structure.py", "tests/test_reading_time.py")  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:]
