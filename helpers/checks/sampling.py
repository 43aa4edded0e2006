"""Checks for notebook 02: sampling hyperparameters on the right scale."""

import dataclasses
import math

import numpy as np

from helpers import sampling as ref_sampling
from helpers.checks.cases import Case, CaseTable, Mismatch
from helpers.checks.driver import run_cases
from helpers.checks.hints import Rung
from helpers.checks.verifiers import again_result, array_like


def _samples(result, size):
    result = array_like(
        np.asarray(result) if isinstance(result, list) else result, (size,), "an array of samples"
    )
    return result.astype(float)


def _spread_like(size, low, high, transform, bins, what, *, outside=None, uneven=None):
    """Verifier: samples in [low, high] whose ``transform`` falls evenly into ``bins``.

    ``outside(values)`` and ``uneven(values, fractions)`` name the likely mistake (a hint, or
    None) when the samples leave the range or spread unevenly."""

    def verify(result):
        values = _samples(result, size)
        slack = 1e-9 * max(abs(low), abs(high))  # 10 ** log10(low) may round below low
        if values.min() < low - slack or values.max() > high + slack:
            raise Mismatch(
                f"values in [{low:g}, {high:g}]",
                f"values from {values.min():.4g} to {values.max():.4g}",
                outside and outside(values),
            )
        with np.errstate(all="ignore"):
            fractions = np.histogram(transform(values), bins=bins)[0] / size
        want = 1 / (len(bins) - 1)
        if np.abs(fractions - want).max() > 0.03:
            raise Mismatch(
                f"{what}: about {want:.0%} in each",
                f"fractions {np.round(fractions, 3).tolist()}",
                uneven and uneven(values, fractions),
            )

    return verify


def _between(values, low, high) -> bool:
    return bool(values.min() >= low * (1 - 1e-9) and values.max() <= high * (1 + 1e-9))


_DIFFERENT_BASES = (
    "your values reach beyond the range: the exponent and the power must use the same base "
    "(the base-10 logarithm of low and high, then 10 to the power of the draw)"
)
_FIXED_RANGE = (
    "your values ignore the range you were given: the bounds of the exponent must come from "
    "the low and high arguments, not from numbers written in the code"
)
_SPREAD_BY_VALUE = (
    "your values are spread evenly over [low, high], so nearly all land in the top decade: it "
    "is the exponent that must be uniform, not the value"
)
_BUNCHED = (
    "your exponents bunch in the middle of the range: draw them uniformly over the whole range "
    "of exponents, not from a bell curve"
)
_OWN_GENERATOR = (
    "draw only from the generator you are given, through its own methods: NumPy's global "
    "random functions (or a new generator) ignore the seed the caller chose"
)


def _log_uniform_uneven(values, fractions):
    if fractions[-1] > 0.7:
        return _SPREAD_BY_VALUE
    if fractions[0] < 0.2 and fractions[-1] < 0.2:
        return _BUNCHED
    return None


def _median_near(size, expected, tolerance, what):
    def verify(result):
        median = float(np.median(_samples(result, size)))
        if abs(median - expected) > tolerance:
            raise Mismatch(f"{what} near {expected:.4g}", f"median {median:.4g}")

    return verify


def _seeded(size):
    """Verifier: the same generator seed gives the same samples, another seed others.

    The case's two further calls use seeds 7 (the case's own) and 8, under different global
    NumPy seeds, so a function that ignores ``rng`` for ``np.random.*`` is caught too.
    """

    def verify(result, observation):
        first = _samples(result, size)
        again, other = (_samples(again_result(observation, i), size) for i in (0, 1))
        if not np.array_equal(first, again):
            raise Mismatch(
                "the same samples from two generators with the same seed", "different samples"
            )
        if np.array_equal(first, other):
            raise Mismatch(
                "different samples from a generator with another seed", "the same samples"
            )

    return verify


def _seeded_case(name, args, hint):
    """A case calling with ``rng(7)``, then again with ``rng(7)`` and with ``rng(8)``."""
    rng = np.random.default_rng
    return Case(
        name,
        (*args, rng(7)),
        _seeded(args[2]),
        hint,
        again=(((*args, rng(7)), 1), ((*args, rng(8)), 2)),
    )


_ARGS = ("low", "high", "size", "rng")


def sample_log_uniform_cases() -> CaseTable:
    """The public cases of ``sample_log_uniform(low, high, size, rng)``: log10 uniform,
    validated range."""
    rng = np.random.default_rng
    n = 20_000
    cases = [
        Case(
            "1e-4 to 1: each decade gets a quarter",
            (1e-4, 1.0, n, rng(0)),
            _spread_like(
                n,
                1e-4,
                1.0,
                np.log10,
                [-4, -3, -2, -1, 0],
                "samples per decade",
                outside=lambda values: _DIFFERENT_BASES,
                uneven=_log_uniform_uneven,
            ),
            "each decade between low and high must get the same share of the samples: draw the "
            "exponent uniformly, then raise 10 to it",
        ),
        Case(
            "2 to 8: the median is the geometric mean 4",
            (2.0, 8.0, n, rng(1)),
            _spread_like(
                n,
                2.0,
                8.0,
                np.log2,
                [1, 1.5, 2, 2.5, 3],
                "samples per half octave",
                outside=lambda values: _FIXED_RANGE,
                uneven=_log_uniform_uneven,
            ),
            "on a log scale half the samples fall below the geometric mean of low and high",
        ),
        _seeded_case("the given generator decides the values", (0.001, 0.1, 50), _OWN_GENERATOR),
        Case(
            "size 1",
            (0.01, 1.0, 1, rng(2)),
            lambda r: _samples(r, 1),
            "return an array of size values, one dimension, even when size is 1",
        ),
        Case(
            "low = 0 has no logarithm",
            (0.0, 1.0, 10, rng(3)),
            None,
            "a low of 0 or below has no logarithm: check the range first and raise ValueError "
            "saying why",
            expect_error=ValueError,
        ),
        Case(
            "high below low",
            (1.0, 0.1, 10, rng(3)),
            None,
            "a high at or below low is no range: raise ValueError saying so",
            expect_error=ValueError,
        ),
    ]
    return CaseTable(
        "sample_log_uniform",
        tuple(cases),
        _ARGS,
        ref_sampling.sample_log_uniform,
        ladder=LOG_UNIFORM_LADDER,
    )


LOG_UNIFORM_LADDER = (
    Rung(
        "the idea",
        "Draw the exponent, not the value: an exponent r uniform between the exponents of low "
        "and high, then the value 10 to the power r. Check the range before drawing: low must "
        "be above 0 (it has no logarithm otherwise) and high above low.",
    ),
    Rung(
        "the tools",
        "np.log10(low) and np.log10(high) are the two exponents; rng.uniform(a, b, size) draws "
        "size exponents at once; 10.0 ** r turns them back into values; raise ValueError(...) "
        "with a message that names the argument.",
    ),
    Rung(
        "the code shape",
        "if low <= 0: raise ValueError(...)      # say which argument and why\n"
        "if high <= low: raise ValueError(...)\n"
        "r = rng.uniform(..., ..., size)\n"
        "return 10.0**r",
    ),
)


def _generator(rng):
    return np.random.default_rng(int(rng.integers(2**32)))


def sample_log_uniform_hidden_cases(rng) -> list:
    """A range over 1.5 to 4 decades drawn from ``rng``: each quarter of its log10 range gets a
    quarter of the samples (±3 %: ten standard deviations at 20,000 samples); and a low <= 0."""
    n = 20_000
    low = float(10 ** rng.uniform(-6, 1))
    high = low * float(10 ** rng.uniform(1.5, 4))
    quarters = np.linspace(np.log10(low), np.log10(high), 5)
    return [
        Case(
            "a random range",
            (low, high, n, _generator(rng)),
            _spread_like(n, low, high, np.log10, quarters, "samples per quarter of log10 range"),
            "for any range with a positive low, every decade between low and high must get the "
            "same share of the samples",
            hidden=True,
        ),
        Case(
            "a low that is not positive",
            (-float(rng.uniform(0, 1)), high, 10, _generator(rng)),
            None,
            "a low of 0 or below has no logarithm: raise ValueError",
            expect_error=ValueError,
            hidden=True,
        ),
    ]


def check_sample_log_uniform(sample_log_uniform) -> None:
    """Check ``sample_log_uniform(low, high, size, rng)``: log10 uniform, validated range."""
    run_cases(sample_log_uniform_cases(), sample_log_uniform)


def sample_beta_cases() -> CaseTable:
    """The public cases of ``sample_beta(low, high, size, rng)``: 1 − β log-uniform, β in
    [low, high]."""
    rng = np.random.default_rng
    n = 20_000
    cases = [
        Case(
            "β in [0.9, 0.999]: 1 − β spread evenly over 2 decades",
            (0.9, 0.999, n, rng(0)),
            _beta_spread(n, 0.9, 0.999, [-3, -2, -1], "1 − β per decade"),
            _BETA_IDEA,
        ),
        Case(
            "β in [0.9, 0.999]: half the samples above 0.99",
            (0.9, 0.999, n, rng(1)),
            _median_near(n, 1 - math.sqrt(0.001 * 0.1), 0.001, "the median of β"),
            _BETA_IDEA,
        ),
        Case(
            "β in [0.5, 0.6], far from the usual range",
            (0.5, 0.6, n, rng(2)),
            _beta_spread(n, 0.5, 0.6, np.linspace(np.log10(0.4), np.log10(0.5), 5), "1 − β"),
            "the range of 1 − β comes from the low and high you are given, whatever they are",
        ),
        _seeded_case("the given generator decides the values", (0.9, 0.99, 50), _OWN_GENERATOR),
        Case(
            "high = 1 would average forever",
            (0.9, 1.0, 10, rng(3)),
            None,
            _BETA_RANGE,
            expect_error=ValueError,
            error_hints=_BETA_ERRORS,
        ),
        Case(
            "low above high",
            (0.999, 0.9, 10, rng(3)),
            None,
            _BETA_RANGE,
            expect_error=ValueError,
            error_hints=_BETA_ERRORS,
        ),
        Case(
            "low = 0",
            (0.0, 0.9, 10, rng(3)),
            None,
            _BETA_RANGE,
            expect_error=ValueError,
            error_hints=_BETA_ERRORS,
        ),
    ]
    cases = [
        c if c.expect_error else dataclasses.replace(c, error_hints=_BETA_ERRORS) for c in cases
    ]
    return CaseTable(
        "sample_beta",
        tuple(cases),
        _ARGS,
        ref_sampling.sample_beta,
        uses={"sample_log_uniform": ref_sampling.sample_log_uniform},
        ladder=BETA_LADDER,
    )


_BETA_IDEA = (
    "β near 1 is where a small change matters: it is 1 − β that must be spread evenly on a log "
    "scale (every decade of 1 − β the same share), not β itself"
)
_BETA_RANGE = "check that 0 < low < high < 1 before sampling, and raise ValueError otherwise"
_BETA_REVERSED = (
    "the bounds you gave for 1 − β are in the wrong order: 1 − β is smallest where β is largest"
)
_BETA_ERRORS = ((r"ValueError in sample_log_uniform: high must be", _BETA_REVERSED),)
_ONE_MINUS_BETA = (
    "your values lie between 1 − high and 1 − low: these are samples of 1 − β; return β, "
    "which is one minus them"
)


def _beta_spread(size, low, high, bins, what):
    """Verifier: β in [low, high] with log10(1 − β) even over ``bins``; the likely mistake named."""

    def outside(values):
        if _between(values, 1 - high, 1 - low):
            return _ONE_MINUS_BETA
        return _FIXED_RANGE

    return _spread_like(
        size,
        low,
        high,
        lambda b: np.log10(1 - b),
        bins,
        what,
        outside=outside,
        uneven=lambda values, fractions: _BETA_IDEA,
    )


BETA_LADDER = (
    Rung(
        "the idea",
        "The averaging window is about 1 / (1 − β), so equal ratios of the window are equal "
        "ratios of 1 − β: sample 1 − β on a log scale, then turn the samples back into β.",
    ),
    Rung(
        "the tools",
        "For β in [0.9, 0.999], 1 − β lies in [0.001, 0.1]. In general 1 − β runs from "
        "1 − high (the smaller) to 1 − low. Your sample_log_uniform(low, high, size, rng) draws "
        "log-uniform values between two bounds.",
    ),
    Rung(
        "the code shape",
        "if not 0 < low < high < 1: raise ValueError(...)\n"
        "return 1.0 - sample_log_uniform(..., ..., size, rng)",
    ),
)


def sample_beta_hidden_cases(rng) -> list:
    """A range of β over 1.5 to 3 decades of 1 − β drawn from ``rng`` (each quarter of
    log10(1 − β)'s range gets a quarter), and a high of 1 or more."""
    n = 20_000
    low = float(rng.uniform(0.3, 0.9))
    high = 1 - (1 - low) * float(10 ** -rng.uniform(1.5, 3))
    quarters = np.linspace(np.log10(1 - high), np.log10(1 - low), 5)
    return [
        Case(
            "a random range",
            (low, high, n, _generator(rng)),
            _beta_spread(n, low, high, quarters, "1 − β per quarter of its range"),
            "for any range of β inside (0, 1), every decade of 1 − β between 1 − high and "
            "1 − low must get the same share",
            hidden=True,
            error_hints=_BETA_ERRORS,
        ),
        Case(
            "a high of 1 or more",
            (low, 1 + float(rng.uniform(0, 1)), 10, _generator(rng)),
            None,
            _BETA_RANGE,
            expect_error=ValueError,
            hidden=True,
        ),
    ]


def check_sample_beta(sample_beta) -> None:
    """Check ``sample_beta(low, high, size, rng)``: 1 − β log-uniform, β in [low, high]."""
    run_cases(sample_beta_cases(), sample_beta)
