"""The only grading code that runs beside a student's: ``python -m helpers.course.runner``.

It runs in the sandbox as its first process (PID 1 of its own PID namespace) and talks to the
grader over two pipes it inherits: it reads on standard input and writes on the file descriptor
given as its argument.
The grader sends the instructor's set-up cells, then one exercise at a time, each only after the
one before it has ended: the exercise cell's source, the course's references of the earlier
exercises it builds on (its stand-ins, nothing else) and the cases' inputs.

Each exercise runs in a child process of its own, forked after the set-up (so the set-up's
imports are paid once). Before the child runs any of the student's code it closes both pipes to
the grader: what it returns goes into a pipe of its own that only this process reads, at most
``result_bytes`` of it. The child's CPU time, and that of every process it starts, is counted
against ``cpu_seconds`` (a busy neighbour slows a run down but costs it no time); ``wall_seconds``
only stops a run that sleeps. After each exercise every process but this one is ended.

This process decides nothing: the grader judges what comes back, in its own process, and a
student's code can only forge its own exercise's observations — which earn nothing without the
hidden cases' expected values, computed by the grader and never sent here.
"""

import contextlib
import json
import os
import select
import signal
import struct
import sys
import time
import types

HEADER_BYTES = 64 * 1024  # a frame's header (JSON) is small; its payload carries a result
FROM_GRADER_BYTES = 64 * 1024**2  # an exercise's inputs (its cases' arguments) at most


# ---- frames: a JSON header and raw bytes, each preceded by its length ------------------------


def send(fd: int, header: dict, payload: bytes = b"") -> None:
    data = json.dumps(header).encode()
    message = struct.pack(">II", len(data), len(payload)) + data + payload
    view = memoryview(message)
    while view:
        view = view[os.write(fd, view) :]


def _read_exactly(fd: int, size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def receive(fd: int, payload_limit: int) -> tuple | None:
    """``(header, payload)`` of the next frame, or None at the end of the stream; raises
    ValueError for a frame over the limits."""
    lengths = _read_exactly(fd, 8)
    if lengths is None:
        return None
    header_size, payload_size = struct.unpack(">II", lengths)
    if header_size > HEADER_BYTES or payload_size > payload_limit:
        raise ValueError("a frame over the size limits")
    header = _read_exactly(fd, header_size)
    payload = _read_exactly(fd, payload_size) if payload_size else b""
    if header is None or payload is None:
        return None
    return json.loads(header.decode()), payload


# ---- the exercise, in the child ---------------------------------------------------------------


def _compile(source: str, name: str):
    try:
        return compile(source, name, "exec")
    except SyntaxError:
        # IPython syntax (%magics, !commands) in a cell: what JupyterLab would have run
        from IPython.core.inputtransformer2 import TransformerManager

        return compile(TransformerManager().transform_cell(source), name, "exec")


def _describe(error: BaseException) -> str:
    try:
        return f"{type(error).__name__}: {error}"[:2000]
    except Exception:
        return type(error).__name__


def _stand_ins(exercise: dict) -> dict:
    """The references this exercise builds on, each executed as a module of its own."""
    found = {}
    for stand_in in exercise["stand_ins"]:
        module = types.ModuleType(f"_course_{stand_in['module']}")
        exec(compile(stand_in["source"], f"<course {stand_in['module']}>", "exec"), vars(module))
        found.update({name: getattr(module, name) for name in stand_in["names"]})
    return found


def _exercise(exercise: dict, namespace: dict) -> dict:
    """Run the exercise cell, then every case; return what was seen."""
    from helpers.checks.probes import observe
    from helpers.checks.stand_ins import references_in_place

    result = {"cell_error": None, "found": False, "observations": []}
    references = _stand_ins(exercise)
    namespace.update(references)  # what the cells before it defined, in the course's version
    if exercise["source"] is not None:
        try:
            exec(_compile(exercise["source"], "<exercise cell>"), namespace)
        except BaseException as error:  # SystemExit and KeyboardInterrupt too: report, go on
            result["cell_error"] = _describe(error)
    function = namespace.get(exercise["function"])
    if not callable(function):
        return result
    result["found"] = True
    with references_in_place(function, references):
        for request in exercise["cases"]:
            result["observations"].append(observe(function, **request))
    return result


def _child(exercise: dict, namespace: dict, result_fd: int, to_grader: int) -> None:
    """In the forked child: hold nothing of the grader's, run the exercise, write its result."""
    code = 0
    try:
        os.setpgid(0, 0)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)  # the grader's pipe to the runner: gone
        os.close(null)
        os.close(to_grader)  # the runner's pipe to the grader: gone
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        data = json.dumps(_exercise(exercise, namespace)).encode()
        view = memoryview(data)
        while view:
            view = view[os.write(result_fd, view) :]
    except BaseException:
        code = 1
    finally:
        os._exit(code)


# ---- watching a child: its CPU time, its result, its end ---------------------------------------

_TICKS = os.sysconf("SC_CLK_TCK")


def _process_seconds(pid: str, group: int | None) -> float:
    """CPU seconds of process ``pid`` and of the children it has waited for; 0 when it is gone
    or (``group`` given) not in that process group."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    if group is not None and int(fields[2]) != group:
        return 0.0
    return sum(int(f) for f in fields[11:15]) / _TICKS  # utime, stime, cutime, cstime


def tree_seconds(group: int | None) -> float:
    """CPU seconds of every process of this run but this one (as the sandbox's PID 1), or of
    process group ``group`` (without the sandbox), plus what this process has reaped."""
    own = os.getpid()
    total = sum(
        _process_seconds(pid, group)
        for pid in os.listdir("/proc")
        if pid.isdigit() and int(pid) != own
    )
    times = os.times()
    return total + times.children_user + times.children_system


def _end_everything(pid: int) -> None:
    """End every process the exercise left (daemons too) and collect them, so the next exercise
    starts alone. As the sandbox's init, ``kill(-1)`` reaches its processes and nothing else."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(-1, signal.SIGKILL) if os.getpid() == 1 else os.killpg(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass


def watch(pid: int, result_fd: int, limits: dict) -> tuple:
    """Read the child's result while counting its tree's CPU time; return ``(status, result)``
    once it has ended or was stopped, every process of the exercise ended."""
    group = None if os.getpid() == 1 else pid
    start, start_cpu = time.monotonic(), tree_seconds(group)
    chunks, size, stopped, code = [], 0, None, None
    open_pipe = True
    while True:
        # once the child has ended, take what is in the pipe and no more (a process it left
        # behind may hold the pipe open)
        wait = 0.05 if code is None else 0
        while open_pipe and stopped is None and select.select([result_fd], [], [], wait)[0]:
            chunk = os.read(result_fd, 1 << 16)
            open_pipe = bool(chunk)
            size += len(chunk)
            chunks.append(chunk)
            if size > limits["result_bytes"]:
                stopped = "too large"
            wait = 0
        if code is None:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                code = os.waitstatus_to_exitcode(status)
                continue  # drain the pipe once more
        elif stopped is None:
            break
        if not open_pipe and code is None:
            time.sleep(0.02)
        cpu = tree_seconds(group) - start_cpu
        if stopped is None and cpu > limits["cpu_seconds"]:
            stopped = "cpu"
        if stopped is None and time.monotonic() - start > limits["wall_seconds"]:
            stopped = "wall"
        if stopped:
            break
    cpu = tree_seconds(group) - start_cpu
    _end_everything(pid)
    status = {
        "exit": code,
        "stopped": stopped,
        "cpu_seconds": round(cpu, 3),
        "seconds": round(time.monotonic() - start, 3),
    }
    return status, (None if stopped else b"".join(chunks))


# ---- the run --------------------------------------------------------------------------------


def _not_traceable() -> None:
    """Forbid ptrace and /proc/<pid>/mem and /proc/<pid>/fd on this process (Linux): the
    exercises' processes run as the same user and must not reach into the runner."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except (OSError, AttributeError):
        pass


def run(to_grader: int) -> None:
    """Set up once, then run each exercise the grader sends in a child of its own; answer on
    file descriptor ``to_grader``."""
    _not_traceable()
    # As PID 1 only signals with a handler arrive from inside: none but these, ignored.
    for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGUSR1", "SIGUSR2", "SIGQUIT"):
        signal.signal(getattr(signal, name), signal.SIG_IGN)
    # Imported before any student code runs, so a finder or module a cell plants cannot
    # replace them (what they report is judged elsewhere in any case).
    import helpers.checks.probes
    import helpers.checks.stand_ins  # noqa: F401

    send(to_grader, {"hello": True})
    frame = receive(0, FROM_GRADER_BYTES)
    if frame is None:
        return
    setup = json.loads(frame[1])
    started = time.monotonic()
    namespace = {"__name__": "__main__", "__builtins__": __builtins__}
    for i, source in enumerate(setup["setup"]):
        try:
            exec(_compile(source, f"<set-up cell {i + 1}>"), namespace)
        except BaseException as error:  # the instructor's cells: a fault of the grader's
            send(to_grader, {"setup_error": _describe(error)})
            return
    send(to_grader, {"ready": round(time.monotonic() - started, 3)})
    while True:
        frame = receive(0, FROM_GRADER_BYTES)
        if frame is None:
            return
        exercise = json.loads(frame[1])
        sys.stdout.flush()
        sys.stderr.flush()
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_end)
            _child(exercise, namespace, write_end, to_grader)
        os.close(write_end)
        status, result = watch(pid, read_end, exercise["limits"])
        os.close(read_end)
        del exercise, frame
        send(to_grader, {"done": status}, result or b"")


def main(argv=None) -> int:
    run(int((argv or sys.argv[1:])[0]))
    # Leave without the interpreter's shutdown: after TensorFlow's import it took 1.5-2.3 s of
    # each run here, for nothing the grader reads.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
