"""The verifier library: each returns a ``verify(result)`` that raises Mismatch, or takes a
result apart (a tuple, a tensor, an array) and says in plain words what came back instead.

A correct answer is judged by its values, whatever array-like form carries them: a NumPy array,
a nested list of numbers or a tensor all pass an array case.
"""

import math

import numpy as np

from helpers.checks.cases import Mismatch, Observation, describe_error, kind_of, short
from helpers.checks.wire import TensorValue


def again_result(observation: Observation, index: int):
    """The result of the case's further call ``index``, or Mismatch saying what it raised."""
    if index >= len(observation.again):
        raise Mismatch("a second call to work", "no answer")
    kind, value = observation.again[index]
    if kind == "error":
        raise Mismatch("a second call to work", describe_error(value, observation.function))
    return value


def unpack(result, names):
    """Return ``result`` if it is a tuple (or list) of ``len(names)`` items, else raise Mismatch."""
    if not isinstance(result, tuple | list) or len(result) != len(names):
        raise Mismatch(f"a tuple ({', '.join(names)})", short(result))
    return result


def tensor_scalar(result, what="a scalar tensor") -> float:
    """Return the value of a 0-d TensorFlow tensor, else raise Mismatch saying what came back."""
    if result is None:
        raise Mismatch(what, "None (is a `return` missing?)")
    if not isinstance(result, TensorValue):
        raise Mismatch(
            "a TensorFlow tensor (the tape can only follow TensorFlow operations)",
            f"{kind_of(result)}: {short(result)}",
        )
    if result.value.ndim != 0:
        raise Mismatch(f"{what} (shape ())", f"shape {tuple(result.value.shape)}")
    if result.value.dtype.kind not in "iuf":
        raise Mismatch(f"{what} of real numbers", f"dtype {result.value.dtype}")
    return float(result.value)


def as_array(result) -> np.ndarray | None:
    """The values of an array-like result (an array, a tensor, a nested list or tuple of
    numbers), or None when it holds something else."""
    if isinstance(result, np.ndarray):
        return result
    if isinstance(result, TensorValue):
        return result.value
    if isinstance(result, list | tuple):
        try:
            values = np.array(result, dtype=float)
        except (TypeError, ValueError, OverflowError):  # ragged, or not numbers
            return None
        return values
    return None


def array_like(result, shape, what="an array"):
    """Return ``result``'s values as a numeric array of ``shape`` with finite floats, else raise
    Mismatch saying what came back."""
    if result is None:
        raise Mismatch(f"{what} of shape {shape}", "None (is a `return` missing?)")
    values = as_array(result)
    if values is None:
        raise Mismatch(f"a numpy array of shape {shape}", kind_of(result))
    if values.shape != shape:
        raise Mismatch(f"{what} of shape {shape}", f"shape {values.shape}")
    if not np.issubdtype(values.dtype, np.number):
        raise Mismatch("a numeric array", f"dtype {values.dtype}")
    if np.issubdtype(values.dtype, np.floating) and not np.all(np.isfinite(values)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(values))[0])
        raise Mismatch("finite values", f"{values[bad]} at index {bad}")
    return values


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
    """Verifier: a number (Python, NumPy or a 0-d array) close to ``expected``; a tensor is
    not a number here (``float(w.numpy())`` is)."""

    def verify(result):
        if result is None:
            raise Mismatch(f"the number {expected:.6g}", "None (is a `return` missing?)")
        if isinstance(result, bool) or not isinstance(result, int | float | np.number | np.ndarray):
            raise Mismatch(f"a single number ({expected:.6g})", short(result))
        if np.ndim(result) != 0 or not np.issubdtype(np.asarray(result).dtype, np.number):
            raise Mismatch(f"a single number ({expected:.6g})", short(result))
        value = float(np.real(result))
        if not math.isclose(value, expected, rel_tol=rtol, abs_tol=atol):
            flipped = expected and math.isclose(-value, expected, rel_tol=rtol, abs_tol=atol)
            raise Mismatch(f"{expected:.6g}", f"{value:.6g}" + (" (the sign is flipped)" * flipped))

    return verify
