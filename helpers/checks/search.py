"""Checks for notebook 01: grid search, random search and zooming in."""

import itertools
import math

import numpy as np

from helpers import search as ref_search
from helpers.checks.cases import Case, CaseTable, Mismatch, short
from helpers.checks.driver import run_cases
from helpers.checks.probes import Recorder, ZeroObjective, bowl
from helpers.checks.verifiers import NO_RETURN, again_result


def _trials(result, n, names):
    """Unpack a list of ``(params, score)`` trials or raise Mismatch saying what came back."""
    what = f"a list of {n} (params, score) trials"
    if result is None:
        raise Mismatch(what, "None", NO_RETURN)
    if not isinstance(result, list | tuple):
        raise Mismatch(what, short(result))
    if len(result) != n:
        raise Mismatch(what, f"{len(result)} trials")
    for i, trial in enumerate(result):
        if not isinstance(trial, list | tuple) or len(trial) != 2 or not isinstance(trial[0], dict):
            raise Mismatch(f"trial {i} to be a pair (params dict, score)", short(trial))
        if set(trial[0]) != set(names):
            raise Mismatch(f"trial {i}'s params to have the names {sorted(names)}", short(trial[0]))
        if isinstance(trial[1], bool) or not isinstance(trial[1], int | float | np.number):
            raise Mismatch(f"trial {i}'s score to be a number", short(trial[1]))
    return result


def _in_evaluation_order(trials, recorder):
    """Every trial is a configuration the objective saw, with its score, in the same order."""
    calls = recorder.calls
    if len(calls) != len(trials):
        raise Mismatch(
            f"the objective called once per trial ({len(trials)} times)", f"{len(calls)} calls"
        )
    for i, ((params, score), seen) in enumerate(zip(trials, calls, strict=True)):
        if any(not math.isclose(float(params[k]), float(seen[k]), abs_tol=1e-12) for k in seen):
            raise Mismatch(
                f"trial {i} to hold the params of the objective's call {i}: {short(seen)}",
                f"{short(params)}",
            )
        if not math.isclose(float(score), bowl(seen), rel_tol=1e-9, abs_tol=1e-12):
            raise Mismatch(f"trial {i}'s score to be objective(params)", f"{float(score):.6g}")


def _grid_is(ranges, n):
    """A recorder and a verifier: every point of the grid, each trial as the objective saw it."""
    recorder = Recorder()
    axes = [np.linspace(low, high, n) for low, high in ranges.values()]
    want = sorted(tuple(round(float(v), 9) for v in p) for p in itertools.product(*axes))

    def verify(result):
        trials = _trials(result, n ** len(ranges), ranges)
        got = sorted(tuple(round(float(p[k]), 9) for k in ranges) for p, _ in trials)
        if got != want:
            missing = next(w for w in want if w not in got)
            raise Mismatch(
                f"every point of the grid, e.g. {dict(zip(ranges, missing, strict=True))}",
                f"points such as {dict(zip(ranges, got[-1], strict=True))}",
            )
        _in_evaluation_order(trials, recorder)

    return recorder, verify


def grid_search_cases() -> CaseTable:
    """The public cases of ``grid_search(objective, ranges, n_per_axis) -> [(params, score),
    ...]``."""
    two = {"learning_rate": (0.0, 1.0), "hidden_units": (50.0, 100.0)}
    one = {"learning_rate": (-4.0, 0.0)}
    three = {"a": (0.0, 1.0), "b": (-1.0, 1.0), "c": (2.0, 3.0)}
    cases = []
    for label, ranges, n, hint in [
        (
            "2 hyperparameters, 3 values each",
            two,
            3,
            "each axis takes numpy.linspace(low, high, n_per_axis): both ends included",
        ),
        (
            "1 hyperparameter, 5 values",
            one,
            5,
            "loop over every name in ranges; with one name the grid is a line",
        ),
        (
            "3 hyperparameters, 2 values each",
            three,
            2,
            "itertools.product over all the axes gives every combination",
        ),
    ]:
        recorder, verify = _grid_is(ranges, n)
        cases.append(
            Case(
                label,
                (recorder, ranges, n),
                verify,
                hint + "; build a new params dict for every trial",
            )
        )
    return CaseTable(
        "grid_search", tuple(cases), ("objective", "ranges", "n_per_axis"), ref_search.grid_search
    )


_NAMES = ("alpha", "beta1", "units", "dropout", "decay", "momentum")


def _random_ranges(rng, k) -> dict:
    names = rng.choice(_NAMES, size=k, replace=False)
    lows = rng.uniform(-5, 5, k)
    return {
        str(n): (float(lo), float(lo + rng.uniform(0.5, 10)))
        for n, lo in zip(names, lows, strict=True)
    }


def grid_search_hidden_cases(rng) -> list:
    """Ranges and points per axis drawn from ``rng``."""
    ranges, n = _random_ranges(rng, int(rng.integers(1, 4))), int(rng.integers(2, 5))
    recorder, verify = _grid_is(ranges, n)
    hint = "any names, ranges and n_per_axis: linspace on every axis, every combination"
    return [Case("random ranges", (recorder, ranges, n), verify, hint, hidden=True)]


def check_grid_search(grid_search) -> None:
    """Check ``grid_search(objective, ranges, n_per_axis) -> [(params, score), ...]``."""
    run_cases(grid_search_cases(), grid_search)


_SHARED_DRAW = (
    "draw each hyperparameter's value on its own (one rng.uniform(low, high) per name and "
    "trial): one draw shared by all of them puts every trial on the diagonal, so n trials try "
    "only n combinations along one line, which is what random search is meant to avoid"
)
_DEPENDENT_DRAWS = (
    "the values of different hyperparameters must be drawn independently: in your trials one "
    "hyperparameter's value tells where the other's lies, so whole regions of the space are "
    "never tried (one rng.uniform(low, high) per name and trial, from the one rng)"
)


def _fractions_of_range(trials, ranges) -> np.ndarray:
    """The trials' values as fractions of their ranges: shape (n_trials, n_hyperparameters)."""
    return np.array(
        [
            [(float(p[k]) - low) / (high - low) for k, (low, high) in ranges.items()]
            for p, _ in trials
        ]
    )


def _not_on_the_diagonal(trials, ranges) -> None:
    """Mismatch when every trial puts all hyperparameters at the same fraction of their range."""
    where = _fractions_of_range(trials, ranges)
    if where.shape[1] > 1 and np.allclose(where, where[:, :1], atol=1e-9):
        raise Mismatch(
            "each hyperparameter drawn on its own",
            "every trial at the same fraction of each range (all on the diagonal)",
            _SHARED_DRAW,
        )


def _trials_are_random(ranges, n):
    """A recorder and a verifier: n trials inside the ranges, all different, not on the
    diagonal, each as the objective saw it."""
    recorder = Recorder()

    def verify(result):
        trials = _trials(result, n, ranges)
        for i, (params, _) in enumerate(trials):
            for k, (low, high) in ranges.items():
                if not low <= float(params[k]) <= high:
                    raise Mismatch(f"{k} in [{low}, {high}]", f"trial {i}: {k} = {params[k]}")
        for k in ranges:
            distinct = len({float(p[k]) for p, _ in trials})
            if distinct != n:
                raise Mismatch(f"{n} different values of {k}", f"{distinct} different values")
        _not_on_the_diagonal(trials, ranges)
        _in_evaluation_order(trials, recorder)

    return recorder, verify


def random_search_cases() -> CaseTable:
    """The public cases of ``random_search(objective, ranges, n_trials, rng)``: uniform,
    seeded, in order."""
    two = {"learning_rate": (0.0, 1.0), "hidden_units": (50.0, 100.0)}
    wide = {"x": (-3.0, 5.0), "y": (10.0, 11.0)}

    def uniform_over(ranges, n):
        def verify(result):
            trials = _trials(result, n, ranges)
            _not_on_the_diagonal(trials, ranges)
            for k, (low, high) in ranges.items():
                values = np.array([float(p[k]) for p, _ in trials])
                quarters = np.histogram(values, bins=4, range=(low, high))[0] / n
                uneven = np.abs(quarters - 0.25).max() > 0.03
                if values.min() < low or values.max() > high or uneven:
                    raise Mismatch(
                        f"{k} spread evenly over [{low}, {high}]: about 25 % in each quarter",
                        f"fractions per quarter {np.round(quarters, 3).tolist()}, "
                        f"min {values.min():.4g}, max {values.max():.4g}",
                    )
            _independent(trials, ranges)

        return verify

    def _independent(trials, ranges):
        # Independent uniform draws fill a grid over two ranges evenly: 1/16 ≈ 6 % of 2,000
        # trials in each of 4 × 4 cells (give or take 0.5 %), and at least 8 of the 31 expected
        # in each of 8 × 8 cells (fewer by chance: about once in 10^5 searches).
        first, second = list(ranges)[:2]
        where = _fractions_of_range(trials, {k: ranges[k] for k in (first, second)})

        def shares(bins):
            grid = [[0, 1], [0, 1]]
            return np.histogram2d(where[:, 0], where[:, 1], bins=bins, range=grid)[0] / len(trials)

        coarse, fine = shares(4), shares(8)
        if np.abs(coarse - 1 / 16).max() > 0.03 or fine.min() < 8 / len(trials):
            raise Mismatch(
                f"{first} and {second} drawn independently: about 6 % of the trials in each "
                "of the 4 × 4 cells their quarters make, none of the 8 × 8 cells empty",
                f"shares of the 4 × 4 cells from {coarse.min():.1%} to {coarse.max():.1%}, "
                f"{int((fine == 0).sum())} of the 8 × 8 cells empty",
                _DEPENDENT_DRAWS,
            )

    def seeded(ranges, n):
        def verify(result, observation):
            first = _trials(result, n, ranges)
            again, other = (_trials(again_result(observation, i), n, ranges) for i in (0, 1))
            values = [[float(p[k]) for k in ranges] for p, _ in first]
            if values != [[float(p[k]) for k in ranges] for p, _ in again]:
                raise Mismatch(
                    "the same trials from two generators with the same seed", "different trials"
                )
            if values == [[float(p[k]) for k in ranges] for p, _ in other]:
                raise Mismatch(
                    "different trials from a generator with another seed", "the same trials"
                )

        return verify

    rng = np.random.default_rng
    one = {"alpha": (0.5, 0.6)}
    recorder, random_verify = _trials_are_random(two, 25)
    single_recorder, single_verify = _trials_are_random(one, 1)
    cases = [
        Case(
            "25 trials over 2 hyperparameters",
            (recorder, two, 25, rng(3)),
            random_verify,
            "draw every value with rng.uniform(low, high), a new params dict per trial, and keep "
            "the trials in the order you evaluated them",
        ),
        Case(
            "2,000 trials cover each range evenly",
            (ZeroObjective(), wide, 2000, rng(3)),
            uniform_over(wide, 2000),
            "rng.uniform(low, high) is uniform on [low, high]; rng.random() alone is on [0, 1)",
        ),
        Case(
            "the given generator decides the values",
            (ZeroObjective(), two, 5, rng(7)),
            seeded(two, 5),
            "draw only from the rng argument, not from np.random.* or a new default_rng()",
            again=(
                ((ZeroObjective(), two, 5, rng(7)), 1),
                ((ZeroObjective(), two, 5, rng(8)), 2),
            ),
        ),
        Case(
            "a single trial",
            (single_recorder, one, 1, rng(3)),
            single_verify,
            "n_trials = 1 returns a list with one trial",
        ),
    ]
    return CaseTable(
        "random_search",
        tuple(cases),
        ("objective", "ranges", "n_trials", "rng"),
        ref_search.random_search,
    )


def random_search_hidden_cases(rng) -> list:
    """Ranges, a number of trials and a generator's seed drawn from ``rng``."""
    ranges, n = _random_ranges(rng, int(rng.integers(2, 4))), int(rng.integers(5, 30))
    recorder, verify = _trials_are_random(ranges, n)
    generator = np.random.default_rng(int(rng.integers(2**32)))
    hint = "any names, ranges and n_trials: one rng.uniform(low, high) per name and trial"
    return [Case("random ranges", (recorder, ranges, n, generator), verify, hint, hidden=True)]


def check_random_search(random_search) -> None:
    """Check ``random_search(objective, ranges, n_trials, rng)``: uniform, seeded, in order."""
    run_cases(random_search_cases(), random_search)


def _ranges_close_to(expected: dict):
    def verify(result):
        if result is None:
            raise Mismatch("a dict of ranges", "None", NO_RETURN)
        if not isinstance(result, dict) or set(result) != set(expected):
            raise Mismatch(f"a dict with the names {sorted(expected)}", short(result))
        for name, (low, high) in expected.items():
            got = result[name]
            try:
                got_low, got_high = (float(v) for v in got)
            except (TypeError, ValueError):
                raise Mismatch(f"{name}: a pair (low, high)", short(got)) from None
            if not (
                math.isclose(got_low, low, abs_tol=1e-9)
                and math.isclose(got_high, high, abs_tol=1e-9)
            ):
                raise Mismatch(
                    f"{name}: ({low:.6g}, {high:.6g})", f"{name}: ({got_low:.6g}, {got_high:.6g})"
                )

    return verify


def zoom_in_cases() -> CaseTable:
    """The public cases of ``zoom_in(ranges, center, factor) -> ranges``: shrink, centre, shift
    back inside."""
    ranges = {"log10_learning_rate": (-4.0, 0.0), "hidden_units": (50.0, 100.0)}
    cases = [
        Case(
            "centre well inside, factor 0.5",
            (ranges, {"log10_learning_rate": -2.0, "hidden_units": 70.0}, 0.5),
            _ranges_close_to({"log10_learning_rate": (-3.0, -1.0), "hidden_units": (57.5, 82.5)}),
            "new width = factor * (high - low), from center - width/2 to center + width/2",
        ),
        Case(
            "centre near the low end is shifted, not cut",
            (ranges, {"log10_learning_rate": -3.9, "hidden_units": 70.0}, 0.25),
            _ranges_close_to({"log10_learning_rate": (-4.0, -3.0), "hidden_units": (63.75, 76.25)}),
            "if center - width/2 < low, start the range at low and keep its full width",
        ),
        Case(
            "centre near the high end is shifted, not cut",
            (ranges, {"log10_learning_rate": -1.0, "hidden_units": 99.0}, 0.5),
            _ranges_close_to({"log10_learning_rate": (-2.0, 0.0), "hidden_units": (75.0, 100.0)}),
            "if center + width/2 > high, end the range at high and keep its full width",
        ),
        Case(
            "factor 1 keeps the ranges",
            (ranges, {"log10_learning_rate": -0.5, "hidden_units": 51.0}, 1.0),
            _ranges_close_to(ranges),
            "with factor 1 the new range is as wide as the old one, so it is the old one",
        ),
    ]
    return CaseTable("zoom_in", tuple(cases), ("ranges", "center", "factor"), ref_search.zoom_in)


def zoom_in_hidden_cases(rng) -> list:
    """Ranges, a centre inside them and a factor drawn from ``rng``; expected from the
    reference."""
    ranges = _random_ranges(rng, int(rng.integers(1, 4)))
    center = {k: float(rng.uniform(low, high)) for k, (low, high) in ranges.items()}
    factor = float(rng.uniform(0.1, 1.0))
    hint = "shrink every range around the centre, shifted back inside when it sticks out"
    return [
        Case(
            "random ranges and centre",
            (ranges, center, factor),
            _ranges_close_to(ref_search.zoom_in(ranges, center, factor)),
            hint,
            hidden=True,
        )
    ]


def check_zoom_in(zoom_in) -> None:
    """Check ``zoom_in(ranges, center, factor) -> ranges``: shrink, centre, shift back inside."""
    run_cases(zoom_in_cases(), zoom_in)
