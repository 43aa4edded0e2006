"""``--scheduler``: a class graded on a Dask scheduler and two workers started on 127.0.0.1.

The same submissions (solved, unsolved, hostile) are graded by the same command once here and
once on the cluster; the reports must agree, timings aside. Needs ``requirements-distributed.txt``
(``make test-grader-security`` installs it), bubblewrap and root, like the attacks.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from grading_support import (
    FORK_BOMB,
    HAVE_SANDBOX,
    KILL_THE_GRADER,
    MAX,
    STUB,
    UNSOLVED,
    submission,
)

from helpers.course import grade

pytestmark = pytest.mark.slow
REQUIRED = bool(os.environ.get("DNN_WEEK3_REQUIRE_SANDBOX"))


def _require(ok, message):
    if not ok:
        pytest.fail(message) if REQUIRED else pytest.skip(message)


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory):
    """A ``dask scheduler`` and two ``dask worker`` processes on 127.0.0.1; yield the address."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        _require(False, "needs distributed: pip install -r requirements-distributed.txt")
    _require(HAVE_SANDBOX, "needs bubblewrap, and root or user namespaces")
    folder = tmp_path_factory.mktemp("cluster")
    dask = str(Path(sys.executable).with_name("dask"))
    file = folder / "scheduler.json"
    common = ["--no-dashboard"]
    logs, processes = [], []

    def start(*args, name):
        log = open(folder / f"{name}.log", "wb")  # closed below
        logs.append(log)
        processes.append(subprocess.Popen([dask, *args], cwd=folder, stdout=log, stderr=log))

    try:
        start("scheduler", "--host", "127.0.0.1", "--port", "0", "--scheduler-file", str(file),
              *common, name="scheduler")  # fmt: skip
        deadline = time.monotonic() + 60
        while True:
            try:
                address = json.loads(file.read_text())["address"]
                break
            except (OSError, ValueError, KeyError):
                assert time.monotonic() < deadline, "the scheduler did not start"
                time.sleep(0.2)
        for name in ("w1", "w2"):
            start("worker", address, "--name", name, "--nthreads", "1", "--no-nanny",
                  "--host", "127.0.0.1", "--local-directory", str(folder / name), *common,
                  name=name)  # fmt: skip
        from distributed import Client

        with Client(address, timeout=30, set_as_default=False) as client:
            client.wait_for_workers(2, timeout=60)
        yield address
    finally:
        for process in reversed(processes):  # the workers first: they leave in < 1 s
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for log in logs:
            log.close()


def _comparable(report):
    """A report without its timings (the only part a run on other machines may change)."""
    report = {k: v for k, v in report.items() if k not in ("seconds", "setup_seconds")}
    report["exercises"] = [
        {k: v for k, v in e.items() if k != "seconds"} for e in report["exercises"]
    ]
    return report


def test_a_class_graded_on_the_cluster_gets_the_local_reports(scheduler, tmp_path):
    paths = [
        submission(tmp_path / "solved"),
        submission(tmp_path / "unsolved", **UNSOLVED),
        submission(tmp_path / "hostile", softmax=STUB + KILL_THE_GRADER),
        submission(tmp_path / "bomb", softmax=STUB + FORK_BOMB),
    ]
    out = tmp_path / "out"
    started = time.monotonic()
    code = grade.main(
        [*map(str, paths), "--scheduler", scheduler, "--json", str(out / "cluster.json"),
         "--gradebook", str(out / "grades.csv"), "--seed", "1"]
    )  # fmt: skip
    cluster_seconds = time.monotonic() - started
    assert code == 0
    # the same hidden cases (--seed): the same reports, timings aside
    assert grade.main([*map(str, paths), "--json", str(out / "local.json"), "--seed", "1"]) == 0
    on_cluster = json.loads((out / "cluster.json").read_text())
    local = json.loads((out / "local.json").read_text())
    assert [r["score"] for r in on_cluster] == [MAX, 0.0, MAX - 2, MAX - 2]
    assert list(map(_comparable, on_cluster)) == list(map(_comparable, local))
    assert len((out / "grades.csv").read_text().splitlines()) == 1 + len(paths)
    print(f"graded {len(paths)} submissions on the cluster in {cluster_seconds:.1f} s")
    # the hostile runs took no worker down: both still answer
    from distributed import Client

    with Client(scheduler, timeout=10, set_as_default=False) as client:
        assert len(client.scheduler_info()["workers"]) == 2


def test_trusted_submissions_run_on_the_cluster_without_the_sandbox_when_told(scheduler, tmp_path):
    out = tmp_path / "report.json"
    path = submission(tmp_path)
    assert (
        grade.main([str(path), "--scheduler", scheduler, "--no-sandbox", "--json", str(out)]) == 0
    )
    assert json.loads(out.read_text())[0]["score"] == MAX  # --json is always a list


def test_an_unreachable_scheduler_is_a_clear_refusal(capfd):
    pytest.importorskip("distributed")
    free = __import__("socket").create_server(("127.0.0.1", 0))
    port = free.getsockname()[1]
    free.close()  # nothing listens there now
    assert grade.main(["x.ipynb", "--scheduler", f"tcp://127.0.0.1:{port}"]) == 2
    assert grade.main(["x.ipynb", "--scheduler", "nonsense://x"]) == 2
    err = capfd.readouterr().err
    assert f"no Dask scheduler answers at tcp://127.0.0.1:{port}" in err
    assert "is not a scheduler's address" in err and "Traceback" not in err


def test_a_plain_tcp_scheduler_elsewhere_is_refused_unless_told(capfd):
    # Whoever reaches a scheduler runs code as root on its workers and could send back any
    # result: plain tcp:// only on this machine, or with --insecure-scheduler.
    pytest.importorskip("distributed")
    assert grade.main(["x.ipynb", "--scheduler", "tcp://192.0.2.1:8786"]) == 2
    err = capfd.readouterr().err
    assert "plain tcp:// scheduler on another machine" in err and "Traceback" not in err
    started = time.monotonic()
    # told: it tries to connect (TEST-NET-1 never answers) and says so, in one line
    argv = ["x.ipynb", "--scheduler", "tcp://192.0.2.1:8786", "--insecure-scheduler"]
    assert grade.main(argv) == 2
    err = capfd.readouterr().err
    assert "no Dask scheduler answers at tcp://192.0.2.1:8786" in err
    assert time.monotonic() - started < 60
