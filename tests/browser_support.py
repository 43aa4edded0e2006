"""What tests/test_browser.py needs around the browser: a throwaway JupyterLab server and a way to
find every process a run started.

Every process the browser tests start carries ``DNN_WEEK3_BROWSER_RUN=<id>`` in its environment
(children inherit it: the server, its kernels, Playwright's driver and Chromium), so a run can be
cleaned up, and checked to be clean, whatever killed it.
"""

from __future__ import annotations

import ctypes
import json
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from helpers.course.handout import CHROMIUM_ARGS, serve_folder  # noqa: F401 (the tests' too)

RUN_MARKER = "DNN_WEEK3_BROWSER_RUN"

# JupyterLab settings for the test server only (never the user's): no news pop-up over the
# menus. The notebook's windowing mode stays at its default (contentVisibility), as a learner has
# it: every cell is in the DOM, and cells off screen are not rendered until scrolled to (so the
# tests read textContent, not innerText, there).
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}

PR_SET_PDEATHSIG = 1


def _terminate_with_parent():
    """In the child before exec: get SIGTERM when the test process dies, even by SIGKILL."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class JupyterLab:
    """``jupyter lab`` on 127.0.0.1, a free port and a random token, serving ``folder``.

    Its configuration, data, runtime, settings and workspaces all live in ``folder``, so the
    user's own JupyterLab set-up is neither used nor changed. Use as a context manager: leaving
    it shuts the kernels down and stops the server, whatever happened inside.
    """

    def __init__(self, jupyter: Path, folder: Path, *, start_timeout: float = 90):
        self.jupyter = Path(jupyter)
        self.root = Path(folder)
        self.start_timeout = start_timeout
        self.token = secrets.token_hex(24)
        self.port = None
        self.process = None
        self.log_path = self.root / "jupyterlab.log"

    def url(self, path: str, *, reset: bool = False) -> str:
        query = ("reset&" if reset else "") + f"token={self.token}"
        return f"http://127.0.0.1:{self.port}/{path}?{query}"

    def api(self, method: str, path: str):
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/api/{path}",
            method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def __enter__(self):
        home = self.root / ".jupyter-test"
        settings = home / "settings"
        for name, values in LAB_SETTINGS.items():
            (settings / name).parent.mkdir(parents=True, exist_ok=True)
            (settings / name).write_text(json.dumps(values))
        env = dict(
            os.environ,
            JUPYTER_CONFIG_DIR=str(home / "config"),
            JUPYTER_DATA_DIR=str(home / "data"),
            JUPYTER_RUNTIME_DIR=str(home / "runtime"),
            JUPYTERLAB_SETTINGS_DIR=str(settings),
            JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
        )
        self.port = free_port()
        command = [
            str(self.jupyter),
            "lab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ]
        if os.geteuid() == 0:
            command.append("--allow-root")
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=self.root,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # one signal reaches the server and anything it forks
                preexec_fn=_terminate_with_parent,
            )
        try:
            self._wait_until_up()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_up(self):
        deadline = time.monotonic() + self.start_timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyter lab exited at start:\n{self.log_tail()}")
            try:
                self.api("GET", "status")
                return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"jupyter lab did not answer within {self.start_timeout:.0f} s:\n"
                        + self.log_tail()
                    ) from None
                time.sleep(0.2)

    def log_tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def shut_down_kernels(self):
        """Stop every kernel (closing a browser page leaves them running)."""
        for kernel in self.api("GET", "kernels"):
            self.api("DELETE", f"kernels/{kernel['id']}")

    def stop(self, timeout: float = 30):
        """SIGTERM (the server then shuts its kernels down), SIGKILL if it does not end."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        except ProcessLookupError:
            pass

    def __exit__(self, *exc):
        try:
            if self.process is not None and self.process.poll() is None:
                self.shut_down_kernels()
        except OSError:
            pass  # the server is already unreachable; stopping it still ends its kernels
        finally:
            self.stop()


def marked_processes(marker: str, *, exclude=()) -> dict[int, str]:
    """pid → command line of every live process whose environment carries this run's marker."""
    tag = f"{RUN_MARKER}={marker}".encode()
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in exclude:
            continue
        try:
            if tag not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            if (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                continue  # a zombie has ended; only its parent's wait() is missing
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        found[int(entry.name)] = cmdline.strip()
    return found


def kill_marked_processes(marker: str, *, exclude=(), grace: float = 10) -> dict[int, str]:
    """SIGTERM every process of this run, SIGKILL what is left after ``grace`` s; return them."""
    found = marked_processes(marker, exclude=exclude)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in marked_processes(marker, exclude=exclude):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + grace
        while marked_processes(marker, exclude=exclude) and time.monotonic() < deadline:
            time.sleep(0.2)
    return found
