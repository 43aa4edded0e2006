"""The machinery of every check: table-driven cases, verifiers and failure messages."""

import contextlib
import copy
import math
import types
import warnings
from dataclasses import dataclass

import numpy as np


class CheckFailure(AssertionError):
    """A student's function failed a case; the message is written for the student."""


class Mismatch(Exception):
    """Raised by a case's verifier: what was expected and what came back."""

    def __init__(self, expected: str, got: str):
        super().__init__(expected)
        self.expected, self.got = expected, got


@dataclass
class Case:
    """One row of a check's table: call ``function(*args)`` and ``verify`` what it returns."""

    name: str
    args: tuple
    verify: object  # callable(result) -> None, raising Mismatch
    hint: str
    expect_error: type | None = None  # the case passes if the call raises this
    # Builds fresh arguments for each run instead of deep-copying ``args``, for arguments the
    # function is meant to change and that cannot be copied (a Keras model, an optimizer).
    make_args: object = None


def _describe_args(args, names) -> str:
    parts = []
    for name, value in zip(names, args, strict=False):
        if isinstance(value, np.ndarray):
            parts.append(f"{name} shape {value.shape}")
        elif isinstance(value, np.random.Generator):
            parts.append(f"{name} = a seeded numpy Generator")
        elif type(value).__module__.startswith(("keras", "optuna")):
            library = type(value).__module__.split(".")[0].capitalize()
            article = "an" if library[0] in "AEIOU" else "a"
            parts.append(f"{name} = {article} {library} {type(value).__name__}")
        elif len(getattr(value, "shape", ())) > 0:  # a tensor
            parts.append(f"{name} shape {tuple(value.shape)}")
        elif callable(value):
            parts.append(f"{name} = a test function")
        else:
            parts.append(f"{name} = {value!r}")
    return ", ".join(parts)


def short(value) -> str:
    if value is None:
        return "None"
    if isinstance(value, np.ndarray):
        text = np.array2string(value, precision=4, threshold=12, edgeitems=2)
        return f"array of shape {value.shape}: " + " ".join(text.split())
    text = repr(value)
    return text if len(text) < 120 else text[:117] + "..."


def run_cases(name: str, function, cases, arg_names, uses=None) -> None:
    """Run ``cases`` against ``function``; print one ✓ line, or raise :class:`CheckFailure`.

    ``uses`` maps the names of other graded functions that ``function`` calls to their
    reference versions; they stand in during the check, so a mistake in one exercise is not
    charged again to the exercises built on it.
    """
    __tracebackhide__ = True  # IPython and pytest hide this frame: the message says it all
    if function is None or not callable(function):
        raise CheckFailure(
            f"✗ {name} — expected a function, got {short(function)}\n"
            f"  hint: pass the function itself, e.g. check_{name}({name})"
        ) from None
    with _references_in_place(function, uses or {}):
        failures = (_run_case(name, function, case, arg_names) for case in cases)
        failure = next((f for f in failures if f), None)
    if failure:
        raise CheckFailure(failure) from None
    print(f"✓ {name}: {len(cases)}/{len(cases)} checks passed")


@contextlib.contextmanager
def _references_in_place(function, references):
    namespace = getattr(function, "__globals__", {})
    # only the learner's own functions of those names; a module called `softmax` stays put
    saved = {
        n: namespace[n] for n in references if isinstance(namespace.get(n), types.FunctionType)
    }
    namespace.update({n: references[n] for n in saved})
    try:
        yield
    finally:
        namespace.update(saved)


def _run_case(name: str, function, case: Case, arg_names):
    """Return the failure message of one case, or None when it passes."""
    args = case.make_args() if case.make_args else copy.deepcopy(case.args)
    given = _describe_args(args, arg_names) or "none (the defaults)"
    header = f'✗ {name} — case "{case.name}"\n  input {given}\n'
    try:
        # The message reports overflow or nan; NumPy's own warnings would only add noise.
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = function(*args)
    except NotImplementedError:
        return header + "  got NotImplementedError\n  hint: replace `raise NotImplementedError()`"
    except Exception as error:  # anything the student's code raises is reported, not re-raised
        if case.expect_error and isinstance(error, case.expect_error):
            return None
        expected = f"{case.expect_error.__name__}" if case.expect_error else "a return value"
        return (
            header + f"  expected {expected}\n  got {type(error).__name__}: {error}\n"
            f"  hint: {case.hint}"
        )
    if case.expect_error:
        return (
            header + f"  expected {case.expect_error.__name__} to be raised\n"
            f"  got a return value: {short(result)}\n  hint: {case.hint}"
        )
    for original, after in zip(case.args, args, strict=True) if not case.make_args else ():
        if not _unchanged(original, after):
            return (
                header + "  expected the arguments to be left unchanged\n"
                "  got an argument modified in place\n"
                "  hint: compute new arrays (W = W - ...) instead of updating in place (W -= ...);"
                " build a new dict instead of changing the one you were given"
            )
    try:
        case.verify(result)
    except Mismatch as mismatch:
        return header + f"  expected {mismatch.expected}\n  got {mismatch.got}\n  hint: {case.hint}"
    return None


@contextlib.contextmanager
def global_numpy_seed(seed: int):
    """Seed NumPy's legacy global state for a block, then restore it.

    A function that draws only from its ``rng`` argument returns the same values under any
    global seed; one that calls ``np.random.*`` does not.
    """
    state = np.random.get_state()  # noqa: NPY002 - the legacy state is what is being probed
    np.random.seed(seed)  # noqa: NPY002
    try:
        yield
    finally:
        np.random.set_state(state)  # noqa: NPY002


def _unchanged(original, after) -> bool:
    """Whether an argument still equals its copy taken before the call (arrays, dicts, lists)."""
    if isinstance(original, np.ndarray):
        return original.shape == after.shape and np.array_equal(original, after)
    if isinstance(original, dict):
        return original.keys() == after.keys() and all(
            _unchanged(original[k], after[k]) for k in original
        )
    if isinstance(original, list | tuple):
        return len(original) == len(after) and all(map(_unchanged, original, after))
    if isinstance(original, int | float):
        return original == after
    return True  # functions, generators: nothing a learner's code would mutate by mistake


# ---- verifiers: each returns a callable(result) that raises Mismatch ----------------------


def unpack(result, names):
    """Return ``result`` if it is a tuple (or list) of ``len(names)`` items, else raise Mismatch."""
    if not isinstance(result, tuple | list) or len(result) != len(names):
        raise Mismatch(f"a tuple ({', '.join(names)})", short(result))
    return result


def tensor_scalar(result, what="a scalar tensor") -> float:
    """Return the value of a 0-d TensorFlow tensor, else raise Mismatch saying what came back."""
    import tensorflow as tf

    if result is None:
        raise Mismatch(what, "None (is a `return` missing?)")
    if not tf.is_tensor(result):
        raise Mismatch(
            "a TensorFlow tensor (the tape can only follow TensorFlow operations)",
            f"{type(result).__name__}: {short(result)}",
        )
    if result.shape.rank != 0:
        raise Mismatch(f"{what} (shape ())", f"shape {tuple(result.shape)}")
    return float(result.numpy())


def array_like(result, shape, what="an array"):
    if result is None:
        raise Mismatch(f"{what} of shape {shape}", "None (is a `return` missing?)")
    if not isinstance(result, np.ndarray):
        raise Mismatch(f"a numpy array of shape {shape}", f"{type(result).__name__}")
    if result.shape != shape:
        raise Mismatch(f"{what} of shape {shape}", f"shape {result.shape}")
    if not np.issubdtype(result.dtype, np.number):
        raise Mismatch("a numeric array", f"dtype {result.dtype}")
    if np.issubdtype(result.dtype, np.floating) and not np.all(np.isfinite(result)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(result))[0])
        raise Mismatch("finite values", f"{result[bad]} at index {bad}")
    return result


def close_to(expected, *, rtol=1e-6, atol=1e-9, what="an array"):
    """Verifier: an array of ``expected``'s shape, element-wise close to it."""
    expected = np.asarray(expected, dtype=float)

    def verify(result):
        result = array_like(result, expected.shape, what)
        if not np.allclose(result, expected, rtol=rtol, atol=atol):
            worst = np.unravel_index(np.argmax(np.abs(result - expected)), expected.shape)
            worst = tuple(int(i) for i in worst)
            raise Mismatch(
                f"{short(expected)}",
                f"{short(result)}\n      (largest difference at index {worst}: "
                f"{float(result[worst]):.6g} instead of {float(expected[worst]):.6g})",
            )

    return verify


def scalar_close_to(expected: float, *, rtol=1e-6, atol=1e-9):
    """Verifier: a float (Python or NumPy scalar, or 0-d array) close to ``expected``."""

    def verify(result):
        if result is None:
            raise Mismatch(f"the number {expected:.6g}", "None (is a `return` missing?)")
        if np.ndim(result) != 0 or not isinstance(result, int | float | np.number | np.ndarray):
            raise Mismatch(f"a single number ({expected:.6g})", short(result))
        value = float(result)
        if not math.isclose(value, expected, rel_tol=rtol, abs_tol=atol):
            flipped = expected and math.isclose(-value, expected, rel_tol=rtol, abs_tol=atol)
            raise Mismatch(f"{expected:.6g}", f"{value:.6g}" + (" (the sign is flipped)" * flipped))

    return verify
