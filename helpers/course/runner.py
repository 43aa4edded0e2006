"""The only grading code that runs beside a student's: ``python -m helpers.course.runner DIR``.

It runs in the sandbox, in a fresh directory ``DIR`` holding ``program.json`` (written by the
grader): the instructor's set-up cells, then per exercise the course's reference versions of the
functions it builds on, the student's exercise cell, and the check's cases as plain data. It
calls the student's function on each case (:func:`helpers.checks.probes.observe`) and writes what
came back to ``DIR/exercise-N.json``, and how each exercise's process ended to
``status.json``. It decides nothing: the grader judges that data in its own process, so whatever
the student's code does to this process can only change the data, not the verdict.
"""

import contextlib
import json
import os
import signal
import sys
import time
import types
from pathlib import Path


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


def _reference_functions(dependency: dict) -> dict:
    """Execute a reference module's source as its own module; return the functions named."""
    module = types.ModuleType(f"_reference_{dependency['module']}")
    exec(compile(dependency["source"], f"<reference {dependency['module']}>", "exec"), vars(module))
    return {name: getattr(module, name) for name in dependency["names"]}


def _exercise(exercise: dict, namespace: dict, observe) -> dict:
    """In the forked child: run the exercise cell, then every case; return what was seen."""
    result = {"cell_error": None, "found": False, "observations": []}
    references = {}
    for dependency in exercise["dependencies"]:
        references.update(_reference_functions(dependency))
    namespace.update(references)
    if exercise["source"] is not None:
        try:
            exec(_compile(exercise["source"], "<exercise cell>"), namespace)
        except BaseException as error:  # SystemExit and KeyboardInterrupt too: report, go on
            result["cell_error"] = _describe(error)
    # The reference stands in for every earlier exercise this one builds on, whatever the cell
    # did to those names (the same rule as the notebook's check, run_cases's ``uses``).
    namespace.update(references)
    function = namespace.get(exercise["function"])
    if not callable(function):
        return result
    result["found"] = True
    for request in exercise["cases"]:
        result["observations"].append(observe(function, **request))
    return result


def _write(path: Path, data) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    tmp.rename(path)


def _wait(pid: int, seconds: float) -> dict:
    """Wait for child ``pid`` at most ``seconds``; kill its process group after that."""
    start = time.monotonic()
    while time.monotonic() < start + seconds:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            code = os.waitstatus_to_exitcode(status)
            return {"status": code, "timeout": False, "seconds": time.monotonic() - start}
        time.sleep(0.02)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return {"status": -signal.SIGKILL, "timeout": True, "seconds": time.monotonic() - start}


def _not_traceable() -> None:
    """Forbid ptrace and /proc/<pid>/mem on this process (Linux): the exercises' processes run
    as the same user and must not reach into the runner."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except (OSError, AttributeError):
        pass


def _reap() -> None:
    """End and collect every process an exercise left behind, daemons included, so the next
    exercise starts alone. Only as the sandbox's init (PID 1): there, ``kill(-1)`` reaches the
    sandbox's processes and nothing outside it."""
    if os.getpid() == 1:
        with contextlib.suppress(ProcessLookupError):
            os.kill(-1, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass


def run(directory: Path) -> None:
    """Run the set-up once, then each exercise in a child process of its own (a fork, so the
    set-up's imports are paid once): a crash or an endless loop costs that exercise only."""
    _not_traceable()
    # Imported before any student code runs, so a finder or module the cell plants cannot
    # replace it (what it reports is judged elsewhere in any case).
    from helpers.checks.probes import observe

    started = time.monotonic()
    program = json.loads((directory / "program.json").read_text(encoding="utf-8"))
    namespace = {"__name__": "__main__", "__builtins__": __builtins__}
    for i, source in enumerate(program["setup"]):
        try:
            exec(_compile(source, f"<set-up cell {i + 1}>"), namespace)
        except BaseException as error:  # the instructor's cells: the grader reports it
            _write(directory / "setup.json", {"setup_error": _describe(error)})
            return
    statuses = []
    setup_seconds = time.monotonic() - started
    for i, exercise in enumerate(program["exercises"]):
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the child: its own process group, so a timeout kills what it started
            code = 0
            try:
                os.setpgid(0, 0)
                _write(directory / f"exercise-{i}.json", _exercise(exercise, namespace, observe))
            except BaseException:
                code = 1
            finally:
                os._exit(code)
        statuses.append(_wait(pid, program["exercise_seconds"]))
        _reap()
    _write(directory / "status.json", {"setup_seconds": setup_seconds, "exercises": statuses})


def main(argv=None) -> int:
    run(Path((argv or sys.argv[1:])[0]))
    # Everything is written (atomically) above. Leave without the interpreter's shutdown: after
    # TensorFlow's import it took 1.5-2.3 s of each run here, for nothing the grader reads.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
