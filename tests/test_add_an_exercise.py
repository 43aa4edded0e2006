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

# Step 2: the check — public cases, hidden cases, a ladder of hints, check_<name>
CHECK = '''

def sample_momentum_cases() -> CaseTable:
    """The public cases of ``sample_momentum(low, high, size, rng)``."""
    rng = np.random.default_rng
    thirds = [0.8, 0.85, 0.9, 0.95]
    cases = [
        Case(
            "β in [0.8, 0.95]",
            (0.8, 0.95, 20_000, rng(0)),
            _spread_like(20_000, 0.8, 0.95, lambda b: b, thirds, "β per third of the range"),
            "uniform between low and high",
        ),
        Case(
            "high = 1", (0.9, 1.0, 10, rng(1)), None, "raise ValueError unless high < 1",
            expect_error=ValueError,
        ),
    ]
    ladder = (
        Rung("the idea", "Every β in the range is as likely as any other."),
        Rung("the tools", "rng.uniform draws from a range."),
        Rung("the code shape", "check the range, then return rng.uniform(low, high, size)"),
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
