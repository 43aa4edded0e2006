"""Reading, running and safely writing notebooks (used by execute, release and grade).

Every notebook runs in a fresh kernel of *this* Python environment, whatever kernels a person
has registered elsewhere, so `make` and the tests always use the pinned set in `.venv`.
"""

import os
import sys
import tempfile
from pathlib import Path

import nbformat
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient

NBFORMAT_VERSION = 4


def read_notebook(path) -> nbformat.NotebookNode:
    """Return the notebook at ``path`` (nbformat 4), raising a clear error if it is not one."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"notebook not found: {path}")
    try:
        return nbformat.read(path, as_version=NBFORMAT_VERSION)
    except Exception as error:  # nbformat raises several unrelated types for bad JSON
        raise ValueError(f"{path} is not a readable notebook: {error}") from None


def write_atomically(nb: nbformat.NotebookNode, path) -> None:
    """Write ``nb`` to ``path`` through a temporary file in the same folder and one rename,
    so a crash or a full disk never leaves half a notebook behind."""
    text = nbformat.writes(nb)
    write_text_atomically(text if text.endswith("\n") else text + "\n", path)


def write_text_atomically(text: str, path) -> None:
    """Write ``text`` (UTF-8) to ``path`` the same way: a temporary file, then one rename."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    write_bytes_atomically(text.encode("utf-8"), path)


def write_bytes_atomically(data: bytes, path) -> None:
    """Write ``data`` to ``path`` through a temporary file and one rename (a PDF, a page)."""
    if not isinstance(data, bytes | bytearray):
        raise TypeError(f"data must be bytes, got {type(data).__name__}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, _mode_for(path))  # mkstemp makes 0600; keep what a plain write would give
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _mode_for(path: Path) -> int:
    if path.exists():
        return path.stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def current_env_kernel_manager() -> AsyncKernelManager:
    """Return a kernel manager that starts ipykernel with this interpreter."""
    km = AsyncKernelManager(kernel_name="python3")
    km.kernel_spec.argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    return km


def make_client(nb, *, cwd, timeout: int = 600, allow_errors: bool = False) -> NotebookClient:
    """Return an nbclient client for ``nb`` that runs in ``cwd`` with this env's kernel."""
    return NotebookClient(
        nb,
        km=current_env_kernel_manager(),
        timeout=timeout,
        allow_errors=allow_errors,
        interrupt_on_timeout=True,
        record_timing=False,  # per-cell timestamps would change every stored notebook on each run
        resources={"metadata": {"path": str(cwd)}},
    )


def kernel_peak_mb(client: NotebookClient):
    """Return the kernel process's peak resident memory in MB (Linux), or None elsewhere."""
    process = getattr(getattr(client.km, "provisioner", None), "process", None)
    status = Path(f"/proc/{getattr(process, 'pid', '')}/status")
    try:
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # reported in kB
    except OSError:
        pass
    return None
