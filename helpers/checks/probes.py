"""What runs in the student's process: call the function on a case's inputs, report plain data.

Nothing here knows an expected value or imports a reference implementation, so it can run where
the references are out of reach (a grading sandbox). :func:`observe` returns only what
:mod:`helpers.checks.wire` can carry; the verdict is reached elsewhere, from that data alone.
"""

import contextlib
import inspect
import linecache
import logging
import os
import re
import sysconfig
import warnings

import numpy as np

from helpers.checks.wire import decode_arg, encode_result


def bowl(params) -> float:
    """A smooth bowl whose value tells the points apart, so scores can be matched to params."""
    return float(sum((i + 1) * (float(v) - 0.3) ** 2 for i, v in enumerate(params.values())))


class Recorder:
    """An objective that remembers every configuration it was called with, in order.

    In the checker it stands for the recorder the student's process will build; the calls seen
    there are copied into ``calls`` before the case is judged.
    """

    def __init__(self):
        self.calls = []

    def __call__(self, params):
        self.calls.append(dict(params))
        return bowl(params)

    def __deepcopy__(self, memo):
        return self

    def __wire__(self):
        return ("recorder", None)

    def __repr__(self):
        return "a test function"


class ZeroObjective:
    """An objective that scores every configuration 0 (the search's order is all that counts)."""

    def __call__(self, params):
        return 0.0

    def __wire__(self):
        return ("zero", None)

    def __repr__(self):
        return "a test function"


class AskedTrial:
    """A fresh trial of an in-memory Optuna study with a seeded random sampler."""

    def __init__(self, seed: int):
        self.seed = seed

    def __wire__(self):
        return ("asked_trial", self.seed)

    def __repr__(self):
        return "an Optuna Trial"


class FixedTrial:
    """An ``optuna.trial.FixedTrial`` answering with ``params``, built where it is used."""

    def __init__(self, params: dict):
        self.params = dict(params)

    def __wire__(self):
        return ("fixed_trial", self.params)

    def __repr__(self):
        return "an Optuna FixedTrial"


def _fixed_trial(params):
    import optuna

    return optuna.trial.FixedTrial(dict(params))


def _asked_trial(seed):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=int(seed))).ask()


OBJECTS = {
    "recorder": lambda _: Recorder(),
    "zero": lambda _: ZeroObjective(),
    "asked_trial": _asked_trial,
    "fixed_trial": _fixed_trial,
}


@contextlib.contextmanager
def global_numpy_seed(seed):
    """Seed NumPy's legacy global state for a block (None: leave it), then restore it.

    A function that draws only from its ``rng`` argument returns the same values under any
    global seed; one that calls ``np.random.*`` does not.
    """
    if seed is None:
        yield
        return
    state = np.random.get_state()  # noqa: NPY002 - the legacy state is what is being probed
    np.random.seed(seed)  # noqa: NPY002
    try:
        yield
    finally:
        np.random.set_state(state)  # noqa: NPY002


# Code that is neither the learner's nor the course's lessons: Python, the installed libraries
# and this checking machinery. A traceback's frames outside these are the functions that ran.
_CHECKS_DIR = os.path.normcase(os.path.dirname(os.path.realpath(__file__))) + os.sep
_LIBRARY_DIRS = (
    *(
        os.path.normcase(os.path.realpath(sysconfig.get_paths()[key])) + os.sep
        for key in ("stdlib", "platstdlib", "purelib", "platlib")
    ),
    _CHECKS_DIR,
)
# The course's lessons (its reference implementations): the package's own folder, or, in a
# grading run, the references executed as "<course topic>" modules (helpers.course.runner).
_COURSE_DIR = os.path.dirname(_CHECKS_DIR.rstrip(os.sep)) + os.sep


def _kind(code) -> str:
    """Whose code this is: "library" (Python, the libraries, the checks), "course" (a lesson's
    reference) or "learner" (everything else: a notebook's cells, a submission)."""
    if code.co_filename.startswith("<course "):
        return "course"
    filename = os.path.normcase(os.path.realpath(code.co_filename))
    if filename.startswith(_CHECKS_DIR):
        return "library"
    if filename.startswith(_COURSE_DIR):
        return "course"
    return "library" if filename.startswith(_LIBRARY_DIRS) else "learner"


def _frames(error: BaseException) -> list:
    """``[(frame, line), ...]`` of ``error``'s traceback, outermost first."""
    frames, traceback = [], error.__traceback__
    while traceback is not None:
        frames.append((traceback.tb_frame, traceback.tb_lineno))
        traceback = traceback.tb_next
    return frames


def raised_in(error: BaseException):
    """The code of the innermost function outside Python, the libraries and the checks in which
    ``error`` was raised (a learner's function or a course reference), or None."""
    found = None
    for frame, _ in _frames(error):
        code = frame.f_code
        if _kind(code) != "library" and code.co_name != "<module>":
            found = code
    return found


def _cell_name(filename: str) -> str:
    """How a learner knows the file of a frame: IPython's "Cell In[7]" for a notebook cell."""
    from helpers.checks.stand_ins import interactive_shell

    shell = interactive_shell()
    try:
        named = shell.compile.format_code_name(filename) if shell is not None else None
    except Exception:  # an IPython without it: the file's own name
        named = None
    if named:
        return " ".join(named)
    return filename if filename.startswith("<") else os.path.basename(filename)


def learner_frames(error: BaseException) -> list:
    """The learner's frames of ``error``, outermost first, as plain data: ``[where, line,
    function, source line]`` — what the learner may be shown of a traceback."""
    found = []
    for frame, line in _frames(error):
        code = frame.f_code
        if _kind(code) == "learner" and code.co_name != "<module>":
            source = linecache.getline(code.co_filename, line, frame.f_globals).strip()
            found.append([_cell_name(code.co_filename), int(line), str(code.co_name), source])
    return found[-8:]


def _short_value(value) -> str:
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int | float | np.number):
        return f"{float(value):.6g}" if isinstance(value, float | np.floating) else repr(value)
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    if isinstance(value, np.random.Generator):
        return "a Generator"
    if isinstance(value, str):
        return repr(value[:40])
    if isinstance(value, list | tuple) and len(value) <= 4:
        inner = ", ".join(_short_value(v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner})"
    return f"a {type(value).__name__}"


def course_call(error: BaseException):
    """``{"function", "args"}`` when ``error`` was raised inside a course function that the
    learner's code called (the outermost course frame below the innermost learner frame): the
    call as the learner made it, with the values of its arguments. None otherwise."""
    frames = _frames(error)
    kinds = [_kind(frame.f_code) for frame, _ in frames]
    if "learner" not in kinds:
        return None
    last_learner = max(i for i, kind in enumerate(kinds) if kind == "learner")
    below = [i for i in range(last_learner + 1, len(frames)) if kinds[i] == "course"]
    if not below:
        return None
    frame = frames[below[0]][0]
    code = frame.f_code
    names = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
    values = frame.f_locals
    args = ", ".join(f"{n}={_short_value(values[n])}" for n in names if n in values)
    return {"function": str(code.co_name)[:100], "args": args[:300]}


def _error(error: BaseException, function=None) -> dict:
    try:
        message = str(error)[:2000]
    except Exception:
        message = "(its message could not be read)"
    try:
        through = course_call(error)
        frames = learner_frames(error)
        code = raised_in(error)
        if through:  # raised in the course's code: the learner's call is what to look at
            code = next(
                f.f_code for f, _ in reversed(_frames(error)) if _kind(f.f_code) == "learner"
            )
        # the function under test itself, whatever name it was given
        own = code is not None and code is getattr(inspect.unwrap(function), "__code__", None)
        where = None if code is None else str(code.co_name)[:100]
    except Exception:
        own, where, through, frames = False, None, None, []
    return {
        "type": type(error).__name__[:100],
        "message": message,
        # builtin classes only: what a case may expect (ValueError, NotImplementedError, ...)
        "classes": [c.__name__ for c in type(error).__mro__ if c.__module__ == "builtins"],
        "function": where,
        "own": bool(own),
        "frames": frames,
        "through": through,
    }


def _call(function, args, seed):
    """Return ``("result", value)`` or ``("error", description)``."""
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings(), global_numpy_seed(seed):
            warnings.simplefilter("ignore")
            return "result", function(*args)
    except Exception as error:
        return "error", _error(error, function)


def _layer_names(model) -> list:
    """Describe a model's layers, e.g. ``["Dense(128, no bias)", "BatchNormalization", …]``."""
    import keras

    names = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):  # a model nested as a layer
            names += _layer_names(layer)
        elif isinstance(layer, keras.layers.InputLayer):
            continue
        elif isinstance(layer, keras.layers.Dense):
            activation = getattr(layer.activation, "__name__", str(layer.activation))
            names.append(
                f"Dense({layer.units}"
                + ("" if layer.use_bias else ", no bias")
                + ("" if activation == "linear" else f", {activation}")
                + ")"
            )
        elif isinstance(layer, keras.layers.ReLU) or (
            isinstance(layer, keras.layers.Activation)
            and getattr(layer.activation, "__name__", "") == "relu"
        ):
            names.append("ReLU")
        else:
            names.append(type(layer).__name__)
    return [str(n) for n in names]


def _probe_gradient(function, args):
    """The gradient of ``function(*args)`` with respect to its first argument, by the tape."""
    import tensorflow as tf

    first = args[0] if isinstance(args[0], tf.Variable) else tf.Variable(args[0])
    with tf.GradientTape() as tape:
        again = function(first, *args[1:])
    gradient = tape.gradient(again, first)
    return None if gradient is None else np.asarray(gradient.numpy())


# A traced argument prints as Tensor("given_0:0", shape=(3,), dtype=float32): its name is the
# probe's own, so a message shows only what the learner can act on.
_TRACED_NAME = re.compile(r"tf\.Tensor \([\w/]+:\d+\)")  # "symbolic tf.Tensor (given_0:0)"
_SYMBOLIC = re.compile(r"Tensor\(\"[^\"]*\", shape=(\([^)]*\)), dtype=(\w+)\)(?: of type '\w+')?")


@contextlib.contextmanager
def _retracing_unannounced():
    """Each case traces a new tf.function on purpose; TensorFlow's warning about frequent
    retracing would otherwise name the probe's function in the learner's output."""
    logger = logging.getLogger("tensorflow")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _probe_gradient_in_graph(function, args):
    """The tape's gradient as in :func:`_probe_gradient`, and the value and gradient once more
    inside a ``tf.function`` (graph mode), where the arguments are symbolic tensors: code that
    leaves TensorFlow (NumPy, ``.numpy()``, ``float()``) works eagerly but fails there."""
    import tensorflow as tf

    eager = _probe_gradient(function, args)
    w = tf.Variable(tf.cast(args[0], tf.float32))
    rest = [tf.constant(a, dtype=tf.float32) for a in args[1:]]

    @tf.function
    def traced(*given):
        with tf.GradientTape() as tape:
            value = function(w, *given)
        return value, tape.gradient(value, w)

    try:
        with _retracing_unannounced():
            value, gradient = traced(*rest)
        graph = {
            "value": np.asarray(value.numpy()),
            "gradient": None if gradient is None else np.asarray(gradient.numpy()),
        }
    except Exception as error:
        described = _error(error, function)
        # TensorFlow's message retells the traced code's frames (the checker's among them):
        # its last line is the error itself.
        lines = [line.strip() for line in described["message"].splitlines() if line.strip()]
        last = lines[-1].removeprefix(f"{described['type']}: ") if lines else ""
        last = _SYMBOLIC.sub(r"a symbolic tensor of shape \1 (\2)", last)
        last = _TRACED_NAME.sub("tf.Tensor", last)
        # autograph renames the traced function (tf__<name>): it is the one under test
        described.update(message=last, frames=[], function=None, own=True)
        graph = {"error": described}
    return {"eager": eager, "graph": graph}


def _probe_keras_model(model, args, given=None):
    """The model's layers, whether it was compiled and its output's shape; given a batch
    (a hidden case), also its output for that batch and its weights, so the grader can check
    that the output is what those layers with those weights compute."""
    import keras

    if not isinstance(model, keras.Model):
        return None
    batch = np.zeros((5, 64), dtype="float32") if given is None else np.asarray(given, "float32")
    built = bool(model.built and model.weights)  # before the call below builds it anyway
    output = model(batch, training=False)
    described = {
        "built": built,
        "layers": _layer_names(model),
        "compiled": bool(getattr(model, "compiled", False) or getattr(model, "optimizer", None)),
        "output_shape": [int(n) for n in output.shape],
    }
    if given is not None:
        described["output"] = np.asarray(output.numpy())
        described["weights"] = [np.asarray(w.numpy()) for w in model.weights]
    return described


def _variables(variables) -> list:
    return [[str(v.path), np.asarray(v.numpy())] for v in variables]


def _probe_weights(function, args):
    """A training step's model after the call, and how many steps the optimizer given took."""
    model, optimizer = args[0], args[1]
    return {
        "trainable": _variables(model.trainable_variables),
        "non_trainable": _variables(model.non_trainable_variables),
        "optimizer_steps": int(optimizer.iterations.numpy()),
    }


def _probe_distributions(function, args):
    from optuna.distributions import distribution_to_json

    return {name: distribution_to_json(d) for name, d in args[0].distributions.items()}


PROBES = {
    "gradient": lambda function, args, result, given: _probe_gradient(function, args),
    "gradient_in_graph": lambda function, args, result, given: _probe_gradient_in_graph(
        function, args
    ),
    "keras_model": lambda function, args, result, given: _probe_keras_model(result, args, given),
    "weights": lambda function, args, result, given: _probe_weights(function, args),
    "distributions": lambda function, args, result, given: _probe_distributions(function, args),
}


def observe(function, args, probe=None, again=(), probe_input=None) -> dict:
    """Call ``function`` on a case's arguments (as :func:`helpers.checks.wire.encode_arg` sent
    them) and return what happened, encoded: the result or the error, the arguments after the
    call, the calls each recorder saw, the probe's extra data and any further calls."""
    args = tuple(decode_arg(args, OBJECTS))
    given = None if probe_input is None else decode_arg(probe_input, OBJECTS)
    kind, value = _call(function, args, None)
    observed = {kind: encode_result(value) if kind == "result" else value}
    observed["args_after"] = encode_result(args)
    observed["recorded"] = encode_result([a.calls for a in args if isinstance(a, Recorder)])
    if probe and kind == "result":
        try:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                observed["probe"] = encode_result(PROBES[probe](function, args, value, given))
        except Exception as error:
            observed["probe_error"] = _error(error)
    observed["again"] = []
    for extra_args, seed in again:
        extra_kind, extra = _call(function, tuple(decode_arg(extra_args, OBJECTS)), seed)
        observed["again"].append(
            {extra_kind: encode_result(extra) if extra_kind == "result" else extra}
        )
    return observed
