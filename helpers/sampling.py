"""Sampling hyperparameters on the right scale (02, 08)."""

import math
import numbers

import numpy as np


def _check_size(size) -> int:
    if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < 0:
        raise TypeError(f"size must be a non-negative integer, got {size!r}")
    return int(size)


def _check_numbers(low, high):
    if not (isinstance(low, numbers.Real) and isinstance(high, numbers.Real)):
        raise TypeError(f"low and high must be numbers, got {low!r} and {high!r}")


def _check_rng(rng):
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")


def sample_log_uniform(low: float, high: float, size: int, rng: np.random.Generator):
    """Return ``size`` values in ``[low, high]`` whose log10 is uniform: each decade equally likely.

    Args:
        low, high: the range, ``0 < low < high``.
        size: number of values.
        rng: the ``numpy.random.Generator`` to draw from.

    Returns:
        Array of shape ``(size,)``.
    """
    _check_numbers(low, high)
    if not low > 0:
        raise ValueError(f"low must be > 0 for a log scale, got {low}")
    if not high > low or not math.isfinite(high):
        raise ValueError(f"high must be a finite number > low = {low}, got {high}")
    size = _check_size(size)
    _check_rng(rng)
    r = rng.uniform(math.log10(low), math.log10(high), size)
    return 10.0**r


def sample_beta(low: float, high: float, size: int, rng: np.random.Generator):
    """Return ``size`` averaging parameters β in ``[low, high]`` with ``1 − β`` log-uniform.

    β near 1 is where a small change matters: the average covers about ``1 / (1 − β)`` values.

    Args:
        low, high: the range of β, ``0 < low < high < 1``.
        size: number of values.
        rng: the ``numpy.random.Generator`` to draw from.

    Returns:
        Array of shape ``(size,)``.
    """
    _check_numbers(low, high)
    if not 0 < low < high < 1:
        raise ValueError(f"need 0 < low < high < 1 for β, got low = {low}, high = {high}")
    return 1.0 - sample_log_uniform(1.0 - high, 1.0 - low, size, rng)
