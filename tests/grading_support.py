"""What the grader's tests share: submissions of notebook 05 as a student would hand them in,
and a grader to grade them with (sandboxed where bubblewrap and root or user namespaces are)."""

import os
from pathlib import Path

import nbformat

from helpers.course import grade, sandbox

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
SOURCE = NOTEBOOKS / "05_softmax_regression.ipynb"
NAME = "05_softmax_regression.ipynb"
MAX = 8.0
UNSOLVED = {
    f: f"def {f}(*args):\n    raise NotImplementedError()"
    for f in ("softmax", "one_hot", "cross_entropy_cost", "softmax_regression_step")
}
STUB = "def softmax(Z):\n    return np.zeros_like(Z)\n"  # wrong: scores 0 honestly
# Two attacks on the machine, used by the attacks' tests and the cluster's.
KILL_THE_GRADER = (
    "import os, signal\n"
    "for pid in (os.getppid(), 1, -1):\n"
    "    try:\n"
    "        os.kill(pid, signal.SIGKILL)\n"
    "    except OSError:\n"
    "        pass\n"
)
FORK_BOMB = (
    "import os\n"
    "forks = 0\n"
    "for _ in range(1000):\n"
    "    try:\n"
    "        if os.fork() == 0:\n"
    "            import time; time.sleep(30); os._exit(0)\n"
    "        forks += 1\n"
    "    except OSError:\n"
    "        break\n"
    "if forks >= 1000:\n"
    "    def softmax(Z):\n"
    "        T = np.exp(Z - Z.max(axis=0))\n"
    "        return T / T.sum(axis=0)\n"
)


def sandbox_here() -> bool:
    """Whether the grader can seal runs on this machine (as root, or in user namespaces)."""
    try:
        return sandbox.check_available(True) is not None
    except sandbox.SandboxUnavailable:
        return False


HAVE_SANDBOX = sandbox_here()
if os.environ.get("DNN_WEEK3_REQUIRE_SANDBOX") and not HAVE_SANDBOX:
    raise RuntimeError("DNN_WEEK3_REQUIRE_SANDBOX is set but the sandbox cannot run here")


def grade_id(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def submission(folder, name=NAME, extra=(), source=SOURCE, **replace) -> Path:
    """A notebook as a student hands it in: each exercise cell ``function`` replaced by
    ``source`` (None deletes the cell), and ``extra`` code cells appended at the end."""
    nb = nbformat.read(source, as_version=4)
    for cell in nb.cells:
        if grade_id(cell) in replace:
            if replace[grade_id(cell)] is None:
                cell.source, cell.metadata = "", {}
            else:
                cell.source = replace[grade_id(cell)]
    nb.cells = [c for c in nb.cells if c.source or c.cell_type != "code"]
    nb.cells += [nbformat.v4.new_code_cell(code) for code in extra]
    path = Path(folder) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def grade_all(*paths, **options) -> list:
    """Grade ``paths`` in one batch; return their reports (JSON form)."""
    grader = grade.Grader(sandboxed=HAVE_SANDBOX, **options)
    try:
        return grader.grade(paths)
    finally:
        grader.close()


def by_function(report) -> dict:
    return {e["function"]: e for e in report["exercises"]}
