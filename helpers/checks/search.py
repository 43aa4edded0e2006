"""Checks for notebook 01: grid search, random search and zooming in."""

import itertools
import math

import numpy as np

from helpers import search as ref_search
from helpers.checks.cases import Case, CaseTable, Mismatch, short
from helpers.checks.driver import run_cases
from helpers.checks.hints import Rung
from helpers.checks.probes import Recorder, ZeroObjective, bowl
from helpers.checks.verifiers import NO_RETURN, again_result


def _trials(result, n, names):
    """Unpack a list of ``(params, score)`` trials or raise Mismatch saying what came back."""
    what = f"a list of {n} (params, score) trials"
    if result is None:
        raise Mismatch(what, "None", NO_RETURN)
    if not isinstance(result, list | tuple):
        raise Mismatch(what, short(result), _EVERY_TRIAL)
    if len(result) == 2 and isinstance(result[0], dict) and n != 2:  # one (params, score) pair
        raise Mismatch(what, f"one trial: {short(result)}", _EVERY_TRIAL)
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


_EVERY_TRIAL = (
    "return every trial, each a pair of its params and its score, in a list: not only the best"
)
_ORDER = (
    "your trials are not in the order the objective saw them: keep them in the order you "
    "evaluated them (no sorting), so a search can be replayed and compared"
)
_SHARED_DICT = (
    "every trial holds the same dict: you changed one dict and appended it again each time, so "
    "all trials show the last point; build a new dict for every trial"
)


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
                _ORDER,
            )
        if not math.isclose(float(score), bowl(seen), rel_tol=1e-9, abs_tol=1e-12):
            raise Mismatch(
                f"trial {i}'s score to be the objective's value for its params",
                f"{float(score):.6g}",
                "each trial's score is what the objective returned for that trial's params",
            )


def _grid_is(ranges, n):
    """A recorder and a verifier: every point of the grid, each trial as the objective saw it."""
    recorder = Recorder()
    axes = [np.linspace(low, high, n) for low, high in ranges.values()]
    want = sorted(tuple(round(float(v), 9) for v in p) for p in itertools.product(*axes))

    def verify(result):
        count = n ** len(ranges)
        if isinstance(result, list) and len(result) == n and count != n:
            raise Mismatch(
                f"a list of {count} (params, score) trials",
                f"{n} trials",
                "your grid tries the values of one hyperparameter at a time: it must try every "
                "combination, one value of each hyperparameter per point",
            )
        trials = _trials(result, count, ranges)
        got = sorted(tuple(round(float(p[k]), 9) for k in ranges) for p, _ in trials)
        if got != want:
            missing = next(w for w in want if w not in got)
            raise Mismatch(
                f"every point of the grid, e.g. {dict(zip(ranges, missing, strict=True))}",
                f"points such as {dict(zip(ranges, got[-1], strict=True))}",
                _SHARED_DICT if len(set(got)) == 1 and len(want) > 1 else None,
            )
        _in_evaluation_order(trials, recorder)

    return recorder, verify


def grid_search_cases() -> CaseTable:
    """The public cases of ``grid_search(objective, ranges, n_per_axis) -> [(params, score),
    ...]``."""
    two = {"learning_rate": (0.0, 1.0), "hidden_units": (50.0, 100.0)}
    one = {"learning_rate": (-4.0, 0.0)}
    three = {"a": (0.0, 1.0), "b": (-1.0, 1.0), "c": (2.0, 3.0)}
    both_ends = (
        "each axis must hold n_per_axis evenly spaced values from low to high, both ends included"
    )
    cases = []
    for label, ranges, n, hint in [
        ("2 hyperparameters, 3 values each", two, 3, both_ends),
        (
            "1 hyperparameter, 5 values",
            one,
            5,
            "with one hyperparameter the grid is a line of n_per_axis points, both ends included",
        ),
        (
            "3 hyperparameters, 2 values each",
            three,
            2,
            "the grid holds every combination: one value from each hyperparameter's axis",
        ),
    ]:
        recorder, verify = _grid_is(ranges, n)
        cases.append(Case(label, (recorder, ranges, n), verify, hint))
    return CaseTable(
        "grid_search",
        tuple(cases),
        ("objective", "ranges", "n_per_axis"),
        ref_search.grid_search,
        ladder=GRID_LADDER,
    )


GRID_LADDER = (
    Rung(
        "the idea",
        "A grid is one list of values per hyperparameter, and then every way of picking one "
        "value from each list; each pick is evaluated once, in a fixed order.",
    ),
    Rung(
        "the tools",
        "np.linspace(low, high, n_per_axis) gives one axis, both ends included. "
        "itertools.product(*axes) yields every combination as a tuple, in a fixed order; "
        "dict(zip(names, values)) makes a new dict of one combination.",
    ),
    Rung(
        "the code shape",
        "axes = [np.linspace(low, high, n_per_axis) for low, high in ranges.values()]\n"
        "for values in itertools.product(*axes):\n"
        "    params = {...}          # a new dict: name -> float(value), zip(ranges, values)\n"
        "    trials.append((params, objective(params)))",
    ),
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
    hint = "for any names, ranges and n_per_axis: every combination of evenly spaced values"
    return [Case("random ranges", (recorder, ranges, n), verify, hint, hidden=True)]


def check_grid_search(grid_search) -> None:
    """Check ``grid_search(objective, ranges, n_per_axis) -> [(params, score), ...]``."""
    run_cases(grid_search_cases(), grid_search)


_SHARED_DRAW = (
    "draw each hyperparameter's value on its own, one draw per name and trial: one draw shared "
    "by all of them puts every trial on the diagonal, so n trials try only n combinations along "
    "one line, which is what random search is meant to avoid"
)
_DEPENDENT_DRAWS = (
    "the values of different hyperparameters must be drawn independently: in your trials one "
    "hyperparameter's value tells where the other's lies, so whole regions of the space are "
    "never tried (one draw per name and trial, all from the one generator)"
)
_OWN_GENERATOR = (
    "draw only from the generator you are given, through its own methods: NumPy's global "
    "random functions (or a new generator) ignore the seed the caller chose"
)
_UNSTRETCHED = (
    "your values cover only the start of each range: a draw between 0 and 1 must be stretched to "
    "the range's width (or drawn between low and high directly)"
)
_BUNCHED = (
    "your values bunch in the middle of each range: draw them uniformly, every value in the "
    "range as likely as any other"
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
                    within_one = values.max() <= low + 1 < high
                    middle = quarters[0] + quarters[-1] < 0.4
                    raise Mismatch(
                        f"{k} spread evenly over [{low}, {high}]: about 25 % in each quarter",
                        f"fractions per quarter {np.round(quarters, 3).tolist()}, "
                        f"min {values.min():.4g}, max {values.max():.4g}",
                        _UNSTRETCHED if within_one else (_BUNCHED if middle else None),
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
            "every trial draws a fresh value for every hyperparameter, uniformly in its range, "
            "into a new dict; the trials stay in the order they were evaluated",
        ),
        Case(
            "2,000 trials cover each range evenly",
            (ZeroObjective(), wide, 2000, rng(3)),
            uniform_over(wide, 2000),
            "each value must be uniform over its whole range, from low to high",
        ),
        Case(
            "the given generator decides the values",
            (ZeroObjective(), two, 5, rng(7)),
            seeded(two, 5),
            _OWN_GENERATOR,
            again=(
                ((ZeroObjective(), two, 5, rng(7)), 1),
                ((ZeroObjective(), two, 5, rng(8)), 2),
            ),
        ),
        Case(
            "a single trial",
            (single_recorder, one, 1, rng(3)),
            single_verify,
            "a search of one trial returns a list holding that one trial",
        ),
    ]
    return CaseTable(
        "random_search",
        tuple(cases),
        ("objective", "ranges", "n_trials", "rng"),
        ref_search.random_search,
        ladder=RANDOM_LADDER,
    )


RANDOM_LADDER = (
    Rung(
        "the idea",
        "Every trial draws a fresh value for every hyperparameter, independently. Sharing one "
        "draw between hyperparameters puts all trials on a diagonal of the box: the grid's "
        "problem again.",
    ),
    Rung(
        "the tools",
        "rng.uniform(low, high) draws one float in [low, high]. np.random.uniform or a new "
        "default_rng would ignore the seed you were given.",
    ),
    Rung(
        "the code shape",
        "for _ in range(n_trials):\n"
        "    params = {name: ... for name, (low, high) in ranges.items()}   # one draw per name\n"
        "    trials.append((params, objective(params)))",
    ),
)


def random_search_hidden_cases(rng) -> list:
    """Ranges, a number of trials and a generator's seed drawn from ``rng``."""
    ranges, n = _random_ranges(rng, int(rng.integers(2, 4))), int(rng.integers(5, 30))
    recorder, verify = _trials_are_random(ranges, n)
    generator = np.random.default_rng(int(rng.integers(2**32)))
    hint = "for any names, ranges and n_trials: one uniform draw per name and trial"
    return [Case("random ranges", (recorder, ranges, n, generator), verify, hint, hidden=True)]


def check_random_search(random_search) -> None:
    """Check ``random_search(objective, ranges, n_trials, rng)``: uniform, seeded, in order."""
    run_cases(random_search_cases(), random_search)


_CUT = (
    "your range was cut at the edge and lost width: the new range must keep its full width "
    "and stay inside the old one"
)
_TWICE = (
    "your new range is twice as wide as it should be: its whole width is factor times the old "
    "width, half of it on each side of the centre"
)
_WIDTH_NOT_SCALED = (
    "your new width is the factor itself: it is factor times the old width (high − low)"
)
_MIDDLE = "your new range is centred on the old range's middle: centre it on the center given"
_STICKS_OUT = "your new range sticks out of the old one: shift it back inside, keeping its width"


def _zoom_mistake(name, got, low, high, center, factor) -> str | None:
    """The likely mistake behind ``got`` = (new low, new high) for one name."""
    got_low, got_high = got
    width, old = got_high - got_low, high - low
    if math.isclose(width, 2 * factor * old, rel_tol=1e-6):
        return _TWICE
    if math.isclose(width, factor, rel_tol=1e-6) and not math.isclose(factor, factor * old):
        return _WIDTH_NOT_SCALED
    if width < factor * old * (1 - 1e-6) and low - 1e-9 <= got_low and got_high <= high + 1e-9:
        return _CUT
    if got_low < low - 1e-9 or got_high > high + 1e-9:
        return _STICKS_OUT
    if math.isclose((got_low + got_high) / 2, (low + high) / 2, abs_tol=1e-9):
        return _MIDDLE
    return None


def _ranges_close_to(expected: dict, ranges: dict | None = None, center=None, factor=None):
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
                hint = None
                if ranges is not None:
                    hint = _zoom_mistake(
                        name, (got_low, got_high), *ranges[name], center[name], factor
                    )
                raise Mismatch(
                    f"{name}: ({low:.6g}, {high:.6g})",
                    f"{name}: ({got_low:.6g}, {got_high:.6g})",
                    hint,
                )

    return verify


def zoom_in_cases() -> CaseTable:
    """The public cases of ``zoom_in(ranges, center, factor) -> ranges``: shrink, centre, shift
    back inside."""
    ranges = {"log10_learning_rate": (-4.0, 0.0), "hidden_units": (50.0, 100.0)}

    def case(name, center, factor, expected, hint):
        return Case(
            name,
            (ranges, center, factor),
            _ranges_close_to(expected, ranges, center, factor),
            hint,
        )

    cases = [
        case(
            "centre well inside, factor 0.5",
            {"log10_learning_rate": -2.0, "hidden_units": 70.0},
            0.5,
            {"log10_learning_rate": (-3.0, -1.0), "hidden_units": (57.5, 82.5)},
            "the new range is factor times as wide as the old one, centred on the center given",
        ),
        case(
            "centre near the low end is shifted, not cut",
            {"log10_learning_rate": -3.9, "hidden_units": 70.0},
            0.25,
            {"log10_learning_rate": (-4.0, -3.0), "hidden_units": (63.75, 76.25)},
            "a range that would start below low starts at low instead, with its full width",
        ),
        case(
            "centre near the high end is shifted, not cut",
            {"log10_learning_rate": -1.0, "hidden_units": 99.0},
            0.5,
            {"log10_learning_rate": (-2.0, 0.0), "hidden_units": (75.0, 100.0)},
            "a range that would end above high ends at high instead, with its full width",
        ),
        case(
            "factor 1 keeps the ranges",
            {"log10_learning_rate": -0.5, "hidden_units": 51.0},
            1.0,
            ranges,
            "with a factor of 1 the new range is as wide as the old one, so it is the old one",
        ),
    ]
    return CaseTable(
        "zoom_in",
        tuple(cases),
        ("ranges", "center", "factor"),
        ref_search.zoom_in,
        ladder=ZOOM_LADDER,
    )


ZOOM_LADDER = (
    Rung(
        "the idea",
        "The new range has width w = factor · (h − l). Centred, it starts at c − w/2. It may "
        "not start below l, and it may not end above h, so it may not start above h − w.",
    ),
    Rung("the equation", "l' = min(max(c − w/2, l), h − w), and h' = l' + w."),
    Rung(
        "the code shape",
        "for name, (low, high) in ranges.items():\n"
        "    width = ...\n"
        "    new_low = ...            # l' of the equation\n"
        "    zoomed[name] = (new_low, new_low + width)",
    ),
)


def zoom_in_hidden_cases(rng) -> list:
    """Ranges, a centre inside them and a factor drawn from ``rng``; expected from the
    reference."""
    ranges = _random_ranges(rng, int(rng.integers(1, 4)))
    center = {k: float(rng.uniform(low, high)) for k, (low, high) in ranges.items()}
    factor = float(rng.uniform(0.1, 1.0))
    hint = "shrink every range around its centre, shifted back inside when it sticks out"
    return [
        Case(
            "random ranges and centre",
            (ranges, center, factor),
            _ranges_close_to(ref_search.zoom_in(ranges, center, factor), ranges, center, factor),
            hint,
            hidden=True,
        )
    ]


def check_zoom_in(zoom_in) -> None:
    """Check ``zoom_in(ranges, center, factor) -> ranges``: shrink, centre, shift back inside."""
    run_cases(zoom_in_cases(), zoom_in)
