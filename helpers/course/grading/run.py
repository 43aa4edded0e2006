"""Running: the grader's side of a run, one exercise at a time.

The grader starts the runner (:mod:`helpers.course.runner`) in the sandbox with two pipes: one
it writes (the runner's standard input), one it reads (the runner's file descriptor 3). Nothing
goes through files: the run's directory holds only what the student's code writes there. The
set-up goes first; then each exercise's plan, sent only once the exercise before it has ended,
and its :class:`ExerciseRun` comes back (its result at most ``Limits.result_bytes``), handed to
``on_exercise`` at once so the grader judges it and drops the raw data.

A fault outside the student's code — the runner cannot start, the instructor's set-up fails —
is the grader's (:attr:`RunResult.grader_fault`), never the student's zero. If the sandbox ends
while an exercise runs (that exercise's doing), the exercises after it get a fresh sandbox.
"""

import contextlib
import dataclasses
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from helpers.course import runner, sandbox
from helpers.course.grading.plan import Plan

HELLO_SECONDS = 120  # the runner's start: Python and its imports, on a loaded machine
SETUP_SLACK = 120  # the instructor's set-up (TensorFlow's import: 6-7 s here)


@dataclass
class ExerciseRun:
    """How one exercise's process ended and what it returned (raw JSON text, or None)."""

    function: str
    raw: bytes | None
    exit_code: int | None
    stopped: str | None  # "cpu", "wall", "too large", "sandbox ended", "out of time"
    cpu_seconds: float = 0.0
    seconds: float = 0.0


@dataclass
class RunResult:
    """One submission's run: an ExerciseRun per exercise (None: not run), or a grader fault."""

    exercises: list = field(default_factory=list)
    grader_fault: str | None = None
    seconds: float = 0.0
    setup_seconds: float | None = None
    stderr_tail: str = ""

    def as_data(self) -> dict:
        """Plain data (a Dask worker sends it back); results as text."""
        runs = [
            None
            if e is None
            else {**e.__dict__, "raw": None if e.raw is None else e.raw.decode("latin-1")}
            for e in self.exercises
        ]
        return {**self.__dict__, "exercises": runs}

    @classmethod
    def from_data(cls, data: dict) -> "RunResult":
        runs = [
            None
            if e is None
            else ExerciseRun(
                **{**e, "raw": None if e["raw"] is None else e["raw"].encode("latin-1")}
            )
            for e in data["exercises"]
        ]
        return cls(**{**data, "exercises": runs})


class _Sandboxed:
    """One runner process and its two pipes."""

    def __init__(self, command, env, cwd, limits, log):
        to_runner_read, self.to_runner = os.pipe()
        self.from_runner, from_runner_write = os.pipe()
        os.set_inheritable(to_runner_read, True)

        self.process = subprocess.Popen(
            [*command, str(from_runner_write)],
            stdin=to_runner_read,
            stdout=log,
            stderr=log,
            cwd=cwd,
            env=env,
            start_new_session=True,
            pass_fds=(from_runner_write,),
            preexec_fn=limits.apply,
        )
        os.close(to_runner_read)
        os.close(from_runner_write)

    def send(self, data: dict) -> bool:
        try:
            runner.send(self.to_runner, {}, json.dumps(data).encode())
            return True
        except OSError:  # the runner is gone
            return False

    def receive(self, seconds: float, payload_limit: int):
        """The runner's next frame within ``seconds``, or None (ended, too slow, malformed)."""
        ready, _, _ = select.select([self.from_runner], [], [], max(seconds, 0))
        if not ready:
            return None
        try:
            return runner.receive(self.from_runner, payload_limit)
        except (ValueError, OSError):
            return None

    def close(self) -> None:
        # bwrap dies, so does the PID namespace and all it holds (--die-with-parent)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        for fd in (self.to_runner, self.from_runner):
            with contextlib.suppress(OSError):
                os.close(fd)


def _tail(path: Path, size: int = 1500) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(max(0, path.stat().st_size - size))
            return handle.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no message"


def run_plan(
    plan: Plan,
    package: Path,
    *,
    sealed: sandbox.Sandbox | None,
    limits: sandbox.Limits,
    notebook_seconds: float,
    slot: int = 0,
    workspace: Path | None = None,
    matplotlib_dir: Path | None = None,
    on_exercise=None,
) -> RunResult:
    """Run ``plan`` (sandboxed when ``sealed`` is given); call ``on_exercise(index, run)`` as
    each exercise ends. ``notebook_seconds`` bounds the whole run."""
    start = time.monotonic()
    deadline = start + notebook_seconds
    result = RunResult(exercises=[None] * len(plan.exercises))
    base = Path(tempfile.mkdtemp(prefix="grade-", dir=workspace))
    logs = base / "logs"
    logs.mkdir(mode=0o700)
    try:
        index = 0
        while index < len(plan.exercises):
            directory = base / f"run-{index}"
            directory.mkdir()
            index = _one_sandbox(
                plan, index, result, package, sealed, limits, directory, logs, slot,
                matplotlib_dir, deadline, on_exercise,
            )  # fmt: skip
            if result.grader_fault:
                break
    finally:
        result.stderr_tail = _tail(logs / "log")
        shutil.rmtree(base, ignore_errors=True)
    result.seconds = time.monotonic() - start
    return result


def _tasks_of_this_user() -> int:
    """How many processes and threads this user runs (RLIMIT_NPROC counts them all)."""
    uid, count = os.getuid(), 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if int(fields.get("Uid", "-1").split()[0]) == uid:
            count += int(fields.get("Threads", "1").strip())
    return count


def process_limits(limits: sandbox.Limits) -> sandbox.Limits:
    """``limits`` for a run started by this user: as an ordinary user (a user namespace, or no
    sandbox) the process limit counts every process the user runs, so those come on top."""
    if os.geteuid() == 0:
        return limits
    return dataclasses.replace(limits, processes=limits.processes + _tasks_of_this_user())


def _command(sealed, directory: Path, package: Path, slot: int) -> tuple:
    module = [sys.executable, "-m", "helpers.course.runner"]
    if sealed is None:
        env = sandbox.run_environment(str(directory), str(package.parent))
        return module, env
    if sealed.as_root:
        uid = sandbox.FIRST_UID + slot
        for path in [directory, *directory.rglob("*")]:
            os.chown(path, uid, uid, follow_symlinks=False)
        os.chmod(directory.parent, 0o711)
    return sealed.command(directory, package, slot, module), None


def _one_sandbox(
    plan, index, result, package, sealed, limits, directory, logs, slot, matplotlib_dir,
    deadline, on_exercise,
) -> int:  # fmt: skip
    """Start a sandbox, set up, run exercises from ``index`` on; return the next one to run."""
    if matplotlib_dir:
        shutil.copytree(matplotlib_dir, directory / ".matplotlib")
    command, env = _command(sealed, directory, package, slot)
    with open(logs / "log", "ab") as log:
        box = _Sandboxed(command, env, directory, process_limits(limits), log)
    try:
        hello = box.receive(min(HELLO_SECONDS, deadline - time.monotonic()), 0)
        if hello is None or not hello[0].get("hello"):
            box.close()
            why = _last_line(_tail(logs / "log"))
            what = (
                "the sandbox cannot import helpers"  # the package copy is not where Python looks
                if "No module named 'helpers" in why
                else "the sandbox could not start the grading runner"
            )
            result.grader_fault = f"{what}: {why}"
            return len(plan.exercises)
        box.send({"setup": list(plan.setup)})
        ready = box.receive(min(SETUP_SLACK + 60, deadline - time.monotonic()), 0)
        if ready is None or "ready" not in ready[0]:
            box.close()
            why = ready[0].get("setup_error") if ready else _last_line(_tail(logs / "log"))
            result.grader_fault = f"the instructor's set-up cells failed in the sandbox: {why}"
            return len(plan.exercises)
        if result.setup_seconds is None:
            result.setup_seconds = round(float(ready[0]["ready"]), 2)
        exercise_limits = limits.for_exercise()
        for i in range(index, len(plan.exercises)):
            left = deadline - time.monotonic()
            exercise = plan.exercises[i]
            if left <= 0:
                _finish(result, i, ExerciseRun(exercise.function, None, None, "out of time"),
                        on_exercise)  # fmt: skip
                continue
            if not box.send(exercise.payload(exercise_limits)):
                _finish(result, i, ExerciseRun(exercise.function, None, None, "sandbox ended"),
                        on_exercise)  # fmt: skip
                return i + 1
            started = time.monotonic()
            answer = box.receive(min(left, limits.exercise_wall_seconds + 30), limits.result_bytes)
            if answer is None or "done" not in answer[0]:
                stopped = "out of time" if time.monotonic() >= deadline else "sandbox ended"
                run = ExerciseRun(exercise.function, None, None, stopped, 0.0,
                                  time.monotonic() - started)  # fmt: skip
                _finish(result, i, run, on_exercise)
                return i + 1
            status = answer[0]["done"]
            run = ExerciseRun(
                exercise.function,
                answer[1] or None,
                status.get("exit"),
                status.get("stopped"),
                float(status.get("cpu_seconds") or 0.0),
                float(status.get("seconds") or 0.0),
            )
            _finish(result, i, run, on_exercise)
        return len(plan.exercises)
    finally:
        box.close()


def _finish(result: RunResult, index: int, run: ExerciseRun, on_exercise) -> None:
    if on_exercise is not None:
        on_exercise(index, run)
        run.raw = None  # judged: the raw data is dropped
    result.exercises[index] = run
