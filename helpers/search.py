"""Hyperparameter search: grid search, random search and coarse-to-fine zooming (01, 08).

A search space is a dict ``ranges`` mapping each hyperparameter's name to ``(low, high)``.
An objective takes one configuration ``params`` (a dict with the same names) and returns a
score where lower is better (a cost, or 1 − accuracy). Searches return the list of trials
``[(params, score), ...]`` in the order they were evaluated.

To search a hyperparameter on a log scale (notebook 02), search its exponent: put
``"log10_learning_rate": (-4, 0)`` in ``ranges`` and let the objective compute ``10 ** r``.
"""

import itertools
import math
import numbers

import numpy as np


def _check_ranges(ranges) -> dict:
    if not isinstance(ranges, dict) or not ranges:
        raise TypeError(f"ranges must be a non-empty dict of name -> (low, high), got {ranges!r}")
    checked = {}
    for name, bounds in ranges.items():
        try:
            low, high = (float(v) for v in bounds)
        except (TypeError, ValueError):
            raise TypeError(
                f"ranges[{name!r}] must be a pair of numbers (low, high), got {bounds!r}"
            ) from None
        if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
            raise ValueError(f"ranges[{name!r}] must have finite low < high, got {bounds!r}")
        checked[name] = (low, high)
    return checked


def _check_count(value, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def grid_search(objective, ranges: dict, n_per_axis: int) -> list:
    """Return the trials of a grid with ``n_per_axis`` evenly spaced values per hyperparameter.

    Args:
        objective: callable ``objective(params) -> float``, lower is better.
        ranges: ``{name: (low, high)}``; each axis gets ``numpy.linspace(low, high, n_per_axis)``
            (both ends included).
        n_per_axis: values per axis (>= 2); the grid has ``n_per_axis ** len(ranges)`` points.

    Returns:
        ``[(params, score), ...]`` in evaluation order (the last name varies fastest).
    """
    ranges = _check_ranges(ranges)
    n_per_axis = _check_count(n_per_axis, "n_per_axis", 2)
    axes = [np.linspace(low, high, n_per_axis) for low, high in ranges.values()]
    trials = []
    for values in itertools.product(*axes):
        params = {name: float(v) for name, v in zip(ranges, values, strict=True)}
        trials.append((params, float(objective(dict(params)))))
    return trials


def random_search(objective, ranges: dict, n_trials: int, rng: np.random.Generator) -> list:
    """Return ``n_trials`` trials whose values are drawn independently and uniformly.

    Args:
        objective: callable ``objective(params) -> float``, lower is better.
        ranges: ``{name: (low, high)}``; each value is uniform in ``[low, high]``.
        n_trials: number of configurations to evaluate (>= 1).
        rng: the ``numpy.random.Generator`` all values are drawn from.

    Returns:
        ``[(params, score), ...]`` in evaluation order.
    """
    ranges = _check_ranges(ranges)
    n_trials = _check_count(n_trials, "n_trials", 1)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    trials = []
    for _ in range(n_trials):
        params = {name: float(rng.uniform(low, high)) for name, (low, high) in ranges.items()}
        trials.append((params, float(objective(dict(params)))))
    return trials


def best_trial(trials: list) -> tuple:
    """Return the ``(params, score)`` trial with the lowest score (the first one on ties)."""
    if not trials:
        raise ValueError("trials is empty: there is no best trial")
    return min(trials, key=lambda trial: trial[1])


def zoom_in(ranges: dict, center: dict, factor: float) -> dict:
    """Return smaller ranges around ``center`` for the next, finer round of search.

    Each range shrinks to ``factor`` × its width, centred on ``center[name]``; where that would
    leave the original range, the new range is shifted back inside (not cut), so every round
    keeps the same relative width.

    Args:
        ranges: ``{name: (low, high)}`` of the current round.
        center: ``{name: value}`` inside ``ranges``, usually the best trial's params.
        factor: new width / old width, in ``(0, 1]``.

    Returns:
        A new ``{name: (low, high)}`` dict with the same names; ``ranges`` is not modified.
    """
    ranges = _check_ranges(ranges)
    if not isinstance(factor, numbers.Real) or not 0 < factor <= 1:
        raise ValueError(f"factor must be in (0, 1], got {factor!r}")
    missing = [name for name in ranges if name not in center]
    if missing:
        raise ValueError(f"center has no value for {missing}")
    zoomed = {}
    for name, (low, high) in ranges.items():
        c = float(center[name])
        if not low <= c <= high:
            raise ValueError(f"center[{name!r}] = {c} is outside its range ({low}, {high})")
        width = factor * (high - low)
        new_low = min(max(c - width / 2, low), high - width)
        zoomed[name] = (new_low, new_low + width)
    return zoomed
