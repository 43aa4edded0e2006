"""Numerical gradients for checking hand-derived ones (notebooks 03 and 05, and the checks)."""

import numpy as np


def numerical_gradient(f, x, h: float = 1e-6):
    """Return the centred-difference gradient of the scalar function ``f`` at array ``x``.

    Each entry of ``x`` is nudged by ±h in turn (``x`` is restored afterwards); the result has
    the shape of ``x``. Error is O(h²), so h = 1e-6 gives about 1e-10 in float64.
    """
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"x must be a float array (it is nudged by h), got dtype {x.dtype}")
    if h <= 0:
        raise ValueError(f"h must be > 0, got {h}")
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + h
        plus = float(f(x))
        x[index] = original - h
        minus = float(f(x))
        x[index] = original
        grad[index] = (plus - minus) / (2 * h)
    return grad


def rel_error(a, b) -> float:
    """Return max |a − b| / max(|a| + |b|, 1e-12), element-wise: 0 means identical."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"a {a.shape} and b {b.shape} must have the same shape")
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-12)))
