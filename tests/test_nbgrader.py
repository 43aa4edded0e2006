"""An nbgrader course can take our notebooks unchanged: generate, then autograde."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

SOURCE = Path(__file__).resolve().parent.parent / "notebooks" / "05_softmax_regression.ipynb"
NBGRADER = Path(sys.executable).parent / "nbgrader"


def _nbgrader(course: Path, *args: str) -> None:
    # nbgrader runs `alembic` by name: this environment's bin/ must come first on PATH
    env = {**os.environ, "PATH": f"{NBGRADER.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run(
        [str(NBGRADER), *args], cwd=course, capture_output=True, text=True, timeout=600, env=env
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_generate_assignment_and_autograde(tmp_path):
    pytest.importorskip("nbgrader")
    course = tmp_path / "course"
    (course / "source" / "ps1").mkdir(parents=True)
    shutil.copy(SOURCE, course / "source" / "ps1" / SOURCE.name)
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        "c.CourseDirectory.course_id = 'week3'\n"
        "c.CourseDirectory.db_students = [dict(id='alice'), dict(id='bob')]\n"
        "c.ExecutePreprocessor.timeout = 300\n"
    )
    _nbgrader(course, "generate_assignment", "ps1", "--force")
    released = nbformat.read(course / "release" / "ps1" / SOURCE.name, as_version=4)
    assert "raise NotImplementedError()" in "".join(c.source for c in released.cells)

    # alice hands in the full solution; bob's softmax forgets to normalize
    for student in ("alice", "bob"):
        (course / "submitted" / student / "ps1").mkdir(parents=True)
    shutil.copy(SOURCE, course / "submitted" / "alice" / "ps1" / SOURCE.name)
    wrong = nbformat.read(SOURCE, as_version=4)
    for cell in wrong.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "softmax":
            cell.source = "def softmax(Z):\n    return np.exp(Z)"
    nbformat.write(wrong, course / "submitted" / "bob" / "ps1" / SOURCE.name)

    _nbgrader(course, "autograde", "ps1", "--force")

    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        alice = gradebook.find_submission("ps1", "alice")
        bob = gradebook.find_submission("ps1", "bob")
        assert alice.max_score == 8
        assert alice.score == 8
        assert bob.score == 6  # only softmax's 2 points are lost
