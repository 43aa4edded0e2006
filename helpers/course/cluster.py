"""Grading a class on an existing Dask cluster: ``grade ... --scheduler tcp://host:8786``.

The grader works as it does alone: it reads each submission, plans its run from the
instructor's notebook (the set-up cells, the submission's exercise cells by ``grade_id``, the
stand-ins, the cases' inputs: plain JSON data, no expected value) and judges what comes back in
its own process. Only the run moves: each submission is one task, sent with its plan to a worker,
which runs it in the same sandbox as a local run (:func:`helpers.course.grading.run.run_plan`:
bubblewrap, a user slot no other run on that machine holds, one exercise at a time, the same
limits) and sends back each exercise's result (at most ``Limits.result_bytes``) as plain data.
Reports, gradebook and item analysis are written by the grader, never on a worker.

A worker needs what a grading machine needs: this repository's ``.venv`` with
``requirements-distributed.txt`` (``make .venv/.distributed``), bubblewrap and root, and the same
``helpers`` as the grader (checked: a worker with other code is refused). Start one with
``.venv/bin/dask worker tcp://host:8786 --nthreads 2`` (one sandbox per thread at a time).
The scheduler runs whatever task it is sent, on workers that are root: keep it on a private
network, or use ``tls://`` with Dask's certificates.
"""

import contextlib
import dataclasses
import tempfile
import threading
import uuid
from pathlib import Path

from helpers.course import sandbox

CONNECT_SECONDS = 10
WORKERS_SECONDS = 30

_worker_state = {}
_worker_lock = threading.Lock()


class ClusterUnavailable(RuntimeError):
    """No usable Dask scheduler (or no distributed package): the grader says so and stops."""


# ---- on a worker --------------------------------------------------------------------------------


def _prepare(sandboxed: bool, fingerprint: str) -> dict:
    """This worker process's grading set-up, made once: the stubbed package, the font cache."""
    if fingerprint != sandbox.package_fingerprint():
        raise sandbox.SandboxUnavailable(
            "this worker's helpers differ from the grader's: install the same version on both"
        )
    with _worker_lock:
        if sandboxed not in _worker_state:
            sealed = sandbox.check_available(sandboxed)
            # removed when the worker's Python exits
            workspace = tempfile.TemporaryDirectory(prefix="dnn-week3-worker-")
            root = Path(workspace.name)
            (root / "runs").mkdir()
            _worker_state[sandboxed] = {
                "sealed": sealed,
                "workspace": workspace,
                "package": sandbox.course_package(root / "package"),
                "matplotlib_dir": sandbox.matplotlib_cache(root / "matplotlib"),
            }
        return _worker_state[sandboxed]


def worker_ready(sandboxed: bool, fingerprint: str) -> str | None:
    """None when this worker can grade, else why not (run on every worker before a batch)."""
    try:
        _prepare(sandboxed, fingerprint)
    except sandbox.SandboxUnavailable as error:
        return str(error)
    return None


def run_remote(
    plan: dict, limits: dict, notebook_seconds: float, sandboxed: bool, fingerprint: str
) -> dict:
    """The task: run one submission's plan on this worker; return its RunResult as data."""
    from helpers.course.grading.plan import Plan
    from helpers.course.grading.run import run_plan

    state = _prepare(sandboxed, fingerprint)
    sealed = state["sealed"]
    claim = sandbox.claim_slot() if sealed and sealed.as_root else contextlib.nullcontext(0)
    with claim as slot:
        result = run_plan(
            Plan.from_data(plan),
            state["package"],
            sealed=sealed,
            limits=sandbox.Limits(**limits),
            notebook_seconds=notebook_seconds,
            slot=slot,
            workspace=Path(state["workspace"].name) / "runs",
            matplotlib_dir=state["matplotlib_dir"],
        )
    return result.as_data()


# ---- in the grader ------------------------------------------------------------------------------


def connect(address: str, *, sandboxed: bool = True, insecure: bool = False):
    """Return a ``distributed.Client`` for the scheduler at ``address`` whose every worker can
    grade; raise ClusterUnavailable saying why not.

    Anyone who reaches a scheduler runs code as root on its workers, and can send back any
    result: a plain ``tcp://`` scheduler is accepted on this machine (loopback) only, unless
    ``insecure`` (a private network); elsewhere use ``tls://``."""
    try:
        from distributed import Client
    except ImportError:
        raise ClusterUnavailable(
            "--scheduler needs Dask's distributed package, which is not installed here: "
            "pip install -r requirements-distributed.txt (make .venv/.distributed)"
        ) from None
    from distributed.comm import registry
    from distributed.comm.addressing import parse_address

    scheme, location = parse_address(address, strict=False)
    if scheme not in registry.backends:
        raise ClusterUnavailable(
            f"{address!r} is not a scheduler's address: give e.g. tcp://host:8786 "
            f"(schemes: {', '.join(sorted(registry.backends))})"
        )
    if scheme not in ("tls", "inproc") and not insecure and not _loopback(location):
        raise ClusterUnavailable(
            f"{address} is a plain {scheme}:// scheduler on another machine: whoever reaches it "
            "runs code as root on its workers and can change any grade. Use tls://, or "
            "--insecure-scheduler on a private network"
        )
    try:
        client = Client(address, timeout=CONNECT_SECONDS, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as error:
        raise ClusterUnavailable(
            f"no Dask scheduler answers at {address} ({type(error).__name__}: {error})"
        ) from None
    try:
        try:
            client.wait_for_workers(1, timeout=WORKERS_SECONDS)
        except TimeoutError:
            raise ClusterUnavailable(
                f"the scheduler at {address} has no worker (waited {WORKERS_SECONDS} s)"
            ) from None
        answers = client.run(worker_ready, sandboxed, sandbox.package_fingerprint())
        refused = {worker: why for worker, why in answers.items() if why}
        if refused:
            raise ClusterUnavailable(
                "some workers cannot grade: "
                + "; ".join(f"{worker}: {why}" for worker, why in sorted(refused.items()))
            )
    except BaseException:
        client.close()
        raise
    return client


def _loopback(location: str) -> bool:
    """Whether a scheduler's ``host:port`` names this machine's loopback interface."""
    import ipaddress
    import socket

    host = location.rsplit(":", 1)[0].strip("[]") if ":" in location else location
    try:
        return all(
            ipaddress.ip_address(info[4][0]).is_loopback for info in socket.getaddrinfo(host, None)
        )
    except (OSError, ValueError):
        return False


def run_plans(client, plans, limits, notebook_seconds, *, sandboxed=True, progress=None) -> list:
    """Run each plan (as data) as one task on the cluster; return per plan a
    :class:`~helpers.course.grading.run.RunResult`, or a string saying why it could not run."""
    from distributed import as_completed

    from helpers.course.grading.run import RunResult

    batch = uuid.uuid4().hex[:8]
    fingerprint = sandbox.package_fingerprint()
    futures = [
        client.submit(
            run_remote,
            plan,
            dataclasses.asdict(limits),
            notebook_seconds,
            sandboxed,
            fingerprint,
            key=f"grade-{batch}-{i}",
            pure=False,
        )
        for i, plan in enumerate(plans)
    ]
    where = {future.key: i for i, future in enumerate(futures)}
    results = [None] * len(futures)
    for done, future in enumerate(as_completed(futures, loop=client.loop), start=1):
        try:
            results[where[future.key]] = RunResult.from_data(future.result())
        except Exception as error:  # a worker refused or died: that submission is not graded
            why = f"{type(error).__name__}: {error}"
            results[where[future.key]] = f"the cluster could not run it: {why}"
        if progress:
            progress(done, len(futures))
    return results
