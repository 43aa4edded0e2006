"""Checks for notebook 02: sampling hyperparameters on the right scale."""

import math

import numpy as np

from helpers import sampling as ref_sampling
from helpers.checks.cases import Case, CaseTable, Mismatch
from helpers.checks.driver import run_cases
from helpers.checks.verifiers import again_result, array_like


def _samples(result, size):
    result = array_like(
        np.asarray(result) if isinstance(result, list) else result, (size,), "an array of samples"
    )
    return result.astype(float)


def _spread_like(size, low, high, transform, bins, what):
    """Verifier: samples in [low, high] whose ``transform`` falls evenly into ``bins``."""

    def verify(result):
        values = _samples(result, size)
        slack = 1e-9 * max(abs(low), abs(high))  # 10 ** log10(low) may round below low
        if values.min() < low - slack or values.max() > high + slack:
            raise Mismatch(
                f"values in [{low:g}, {high:g}]",
                f"values from {values.min():.4g} to {values.max():.4g}",
            )
        with np.errstate(all="ignore"):
            fractions = np.histogram(transform(values), bins=bins)[0] / size
        want = 1 / (len(bins) - 1)
        if np.abs(fractions - want).max() > 0.03:
            raise Mismatch(
                f"{what}: about {want:.0%} in each", f"fractions {np.round(fractions, 3).tolist()}"
            )

    return verify


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
            _spread_like(n, 1e-4, 1.0, np.log10, [-4, -3, -2, -1, 0], "samples per decade"),
            "r = rng.uniform(log10(low), log10(high), size), then 10 ** r (base 10 both ways)",
        ),
        Case(
            "2 to 8: the median is the geometric mean 4",
            (2.0, 8.0, n, rng(1)),
            _median_near(n, 4.0, 0.1, "the median"),
            "uniform in log10 space: half the samples fall below sqrt(low * high)",
        ),
        _seeded_case(
            "the given generator decides the values",
            (0.001, 0.1, 50),
            "draw only from the rng argument (rng.uniform), not from np.random.*",
        ),
        Case(
            "size 1",
            (0.01, 1.0, 1, rng(2)),
            lambda r: _samples(r, 1),
            "return an array of shape (size,) even when size is 1",
        ),
        Case(
            "low = 0 has no logarithm",
            (0.0, 1.0, 10, rng(3)),
            None,
            "raise ValueError when low <= 0",
            expect_error=ValueError,
        ),
        Case(
            "high below low",
            (1.0, 0.1, 10, rng(3)),
            None,
            "raise ValueError when high <= low",
            expect_error=ValueError,
        ),
    ]
    return CaseTable("sample_log_uniform", tuple(cases), _ARGS, ref_sampling.sample_log_uniform)


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
            "uniform in log10 between log10(low) and log10(high), for any 0 < low < high",
            hidden=True,
        ),
        Case(
            "a low that is not positive",
            (-float(rng.uniform(0, 1)), high, 10, _generator(rng)),
            None,
            "raise ValueError when low <= 0",
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
            _spread_like(
                n, 0.9, 0.999, lambda b: np.log10(1 - b), [-3, -2, -1], "1 − β per decade"
            ),
            "sample 1 − β log-uniformly in [1 − high, 1 − low], then β = 1 − that",
        ),
        Case(
            "β in [0.9, 0.999]: half the samples above 0.99",
            (0.9, 0.999, n, rng(1)),
            _median_near(n, 1 - math.sqrt(0.001 * 0.1), 0.001, "the median of β"),
            "uniform β (or log-uniform β) puts most samples near 0.9; the log scale is for 1 − β",
        ),
        _seeded_case(
            "the given generator decides the values",
            (0.9, 0.99, 50),
            "draw only from the rng argument, not from np.random.*",
        ),
        Case(
            "high = 1 would average forever",
            (0.9, 1.0, 10, rng(3)),
            None,
            "raise ValueError unless 0 < low < high < 1",
            expect_error=ValueError,
        ),
        Case(
            "low above high",
            (0.999, 0.9, 10, rng(3)),
            None,
            "raise ValueError unless 0 < low < high < 1",
            expect_error=ValueError,
        ),
        Case(
            "low = 0",
            (0.0, 0.9, 10, rng(3)),
            None,
            "raise ValueError unless 0 < low < high < 1",
            expect_error=ValueError,
        ),
    ]
    return CaseTable(
        "sample_beta",
        tuple(cases),
        _ARGS,
        ref_sampling.sample_beta,
        uses={"sample_log_uniform": ref_sampling.sample_log_uniform},
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
            _spread_like(
                n, low, high, lambda b: np.log10(1 - b), quarters, "1 − β per quarter of its range"
            ),
            "sample 1 − β log-uniformly in [1 − high, 1 − low], for any 0 < low < high < 1",
            hidden=True,
        ),
        Case(
            "a high of 1 or more",
            (low, 1 + float(rng.uniform(0, 1)), 10, _generator(rng)),
            None,
            "raise ValueError unless 0 < low < high < 1",
            expect_error=ValueError,
            hidden=True,
        ),
    ]


def check_sample_beta(sample_beta) -> None:
    """Check ``sample_beta(low, high, size, rng)``: 1 − β log-uniform, β in [low, high]."""
    run_cases(sample_beta_cases(), sample_beta)
