"""The grader tests itself first: the instructor's own solution, graded in the same sandbox.

Before a batch, each assignment in it is graded from its instructor notebook (whose exercise
cells hold the solutions) exactly as a submission would be. Anything short of full marks is a
fault of the grader's environment (the sandbox cannot import ``helpers``, a set-up cell fails, a
check rejects its own reference): the batch stops with exit status 3 and the cause, instead of
handing every student a zero. A pass is remembered per course version (the package's code, the
instructor notebook, the sandbox and the limits), so a machine pays for it once.
"""

import hashlib
import json
import os
import sys
from pathlib import Path

from helpers.course import sandbox
from helpers.course.notebook_io import write_text_atomically


class GraderFault(RuntimeError):
    """The grader cannot grade correctly here; the message says why (exit status 3)."""


def cache_dir() -> Path:
    """Where passed self-tests are remembered (``DNN_WEEK3_GRADER_CACHE`` to choose)."""
    chosen = os.environ.get("DNN_WEEK3_GRADER_CACHE")
    if chosen:
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "dnn-week3-helpers"


def course_version(notebook: Path, where: str, limits: sandbox.Limits) -> str:
    """A digest of what a self-test's verdict depends on."""
    digest = hashlib.sha256()
    for part in (
        sandbox.package_fingerprint(),
        hashlib.sha256(notebook.read_bytes()).hexdigest(),
        where,
        str(sandbox.mount_dir()),  # where the package copy is mounted in the sandbox
        sys.executable,
        repr(limits),
    ):
        digest.update(part.encode() + b"\0")
    return digest.hexdigest()[:24]


def _cache_file(folder: Path) -> Path:
    return folder / "self-test.json"


def passed_before(folder: Path, version: str) -> bool:
    try:
        return version in json.loads(_cache_file(folder).read_text())
    except (OSError, ValueError, TypeError):
        return False


def remember(folder: Path, version: str, assignment: str) -> None:
    try:
        known = json.loads(_cache_file(folder).read_text())
        known = known if isinstance(known, dict) else {}
    except (OSError, ValueError):
        known = {}
    known[version] = assignment
    try:
        write_text_atomically(
            json.dumps(known, indent=1, sort_keys=True) + "\n", _cache_file(folder)
        )
    except OSError:
        pass  # not remembered: the next batch tests again


def check_full_marks(assignment: str, report) -> None:
    """Raise GraderFault unless the instructor solution's ``report`` has full marks."""
    if report.graded and report.score == report.max_score and report.max_score > 0:
        return
    if report.notes:
        cause = "; ".join(report.notes)
    else:
        failed = [v for v in report.verdicts if not v.passed]
        cause = failed[0].feedback.splitlines()[0] if failed else "no exercise was graded"
    raise GraderFault(
        f"the grader's self-test failed: the instructor's solution of {assignment} got "
        f"{report.score:g}/{report.max_score:g} in the sandbox: {cause}"
    )
