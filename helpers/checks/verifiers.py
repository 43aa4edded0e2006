"""The verifier library: each returns a ``verify(result)`` that raises Mismatch, or takes a
result apart (a tuple, a tensor, an array) and says in plain words what came back instead.

A correct answer is judged by its values, whatever array-like form carries them: a NumPy array,
a nested list of numbers or a tensor all pass an array case.
"""

import math

import numpy as np

from helpers.checks.cases import Mismatch, Observation, describe_error, kind_of, short
from helpers.checks.wire import TensorValue

NO_RETURN = "your function returns nothing: is the return statement missing at its end?"
NOT_A_TENSOR = (
    "your result is not a TensorFlow tensor: a value computed with NumPy (or turned into a "
    "plain number) is invisible to the tape; keep to TensorFlow operations"
)


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
    if result is None:
        raise Mismatch(f"a tuple ({', '.join(names)})", "None", NO_RETURN)
    if not isinstance(result, tuple | list) or len(result) != len(names):
        raise Mismatch(
            f"a tuple ({', '.join(names)})",
            short(result),
            f"return all {len(names)} results together, as one tuple in this order: "
            + ", ".join(names),
        )
    return result


def tensor_scalar(result, what="a scalar tensor") -> float:
    """Return the value of a 0-d TensorFlow tensor, else raise Mismatch saying what came back."""
    if result is None:
        raise Mismatch(what, "None", NO_RETURN)
    if not isinstance(result, TensorValue):
        raise Mismatch(
            "a TensorFlow tensor (the tape can only follow TensorFlow operations)",
            f"{kind_of(result)}: {short(result)}",
            NOT_A_TENSOR,
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


def shape_hint(got: tuple, shape: tuple) -> str | None:
    """The likely mistake behind an array of shape ``got`` where ``shape`` was expected."""
    size = int(np.prod(shape))
    if got == shape[::-1] and len(shape) == 2 and shape[0] != shape[1]:
        return (
            f"your result is transposed ({got} instead of {shape}): here each example is a "
            "column, so the rows are the units or classes"
        )
    if int(np.prod(got)) == size and len(got) < len(shape):
        return (
            f"your result lost an axis of length 1 (shape {got} instead of {shape}): a sum, a "
            "mean or an indexing step dropped it; keep it (NumPy's keepdims option)"
        )
    return None


def array_like(result, shape, what="an array"):
    """Return ``result``'s values as a numeric array of ``shape`` with finite floats, else raise
    Mismatch saying what came back (and the likely mistake, when its shape tells it)."""
    if result is None:
        raise Mismatch(f"{what} of shape {shape}", "None", NO_RETURN)
    values = as_array(result)
    if values is None:
        one_number = isinstance(result, int | float) and not isinstance(result, bool)
        hint = (
            f"you returned a single number where an array of shape {shape} was expected"
            if one_number and shape != ()
            else None
        )
        raise Mismatch(f"a numpy array of shape {shape}", kind_of(result), hint)
    if values.shape != shape:
        one_number = values.shape == () and shape != ()
        hint = (
            f"you returned a single number where an array of shape {shape} was expected"
            if one_number
            else shape_hint(values.shape, shape)
        )
        raise Mismatch(f"{what} of shape {shape}", f"shape {values.shape}", hint)
    if not np.issubdtype(values.dtype, np.number):
        raise Mismatch("a numeric array", f"dtype {values.dtype}")
    if np.issubdtype(values.dtype, np.floating) and not np.all(np.isfinite(values)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(values))[0])
        raise Mismatch("finite values", f"{values[bad]} at index {bad}")
    return values


def recognize(values, mistakes, *, rtol=1e-6, atol=1e-9) -> str | None:
    """The hint of the first of ``mistakes`` ((what that mistake returns, hint), ...) whose
    values ``values`` match, or None."""
    values = np.asarray(values, dtype=float)
    for wrong, hint in mistakes:
        wrong = np.asarray(wrong, dtype=float)
        if wrong.shape == values.shape and np.all(np.isfinite(wrong)):
            if np.allclose(values, wrong, rtol=rtol, atol=atol):
                return hint
    return None


def close_to(expected, *, rtol=1e-6, atol=1e-9, what="an array", mistakes=()):
    """Verifier: an array of ``expected``'s shape, element-wise close to it. A result equal to
    one of ``mistakes`` ((what that mistake returns, hint), ...) gets that mistake's hint."""
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
                recognize(result, mistakes, rtol=rtol, atol=atol),
            )

    return verify


ONE_NUMBER = "return one number (a Python float), not an array or a tensor"


def scalar_close_to(expected: float, *, rtol=1e-6, atol=1e-9, mistakes=()):
    """Verifier: a number (Python, NumPy or a 0-d array) close to ``expected``; a tensor is
    not a number here (``float(w.numpy())`` is). A value equal to one of ``mistakes`` ((what
    that mistake gives, hint), ...) gets that mistake's hint."""

    def verify(result):
        if result is None:
            raise Mismatch(f"the number {expected:.6g}", "None", NO_RETURN)
        if isinstance(result, bool) or not isinstance(result, int | float | np.number | np.ndarray):
            raise Mismatch(f"a single number ({expected:.6g})", short(result), ONE_NUMBER)
        if np.ndim(result) != 0 or not np.issubdtype(np.asarray(result).dtype, np.number):
            raise Mismatch(f"a single number ({expected:.6g})", short(result), ONE_NUMBER)
        value = float(np.real(result))
        if not math.isclose(value, expected, rel_tol=rtol, abs_tol=atol):
            flipped = expected and math.isclose(-value, expected, rel_tol=rtol, abs_tol=atol)
            hint = next(
                (
                    hint
                    for wrong, hint in mistakes
                    if math.isclose(value, wrong, rel_tol=rtol, abs_tol=atol)
                ),
                None,
            )
            raise Mismatch(
                f"{expected:.6g}", f"{value:.6g}" + (" (the sign is flipped)" * flipped), hint
            )

    return verify
