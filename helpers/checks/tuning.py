"""Checks for notebook 08: the search space asked of an Optuna trial."""

import dataclasses
import math

from helpers import tuning as ref_tuning
from helpers.checks.cases import Case, CaseTable, Mismatch, short
from helpers.checks.driver import run_cases
from helpers.checks.hints import Rung
from helpers.checks.probes import AskedTrial, FixedTrial
from helpers.checks.verifiers import NO_RETURN

NAMES = ("learning_rate", "beta1", "hidden_units", "batch_size")
TRIAL_PARAMETERS = "learning_rate, one_minus_beta1, hidden_units, log2_batch_size"


def _configuration(result) -> dict:
    if result is None:
        raise Mismatch("a dict of the four hyperparameters", "None", NO_RETURN)
    if not isinstance(result, dict) or set(result) != set(NAMES):
        got = sorted(result) if isinstance(result, dict) else short(result)
        raise Mismatch(
            f"a dict with exactly the keys {list(NAMES)}",
            f"{got}",
            "return a dict whose keys are the four hyperparameters' names, as listed",
        )
    return result


_HINTS = {
    "beta1": "β1 is one minus the trial's one_minus_beta1: convert it before returning it",
    ("batch_size", False): "batch_size is 2 to the power of the trial's log2_batch_size",
    ("batch_size", True): "batch_size must be an int (a power of 2), not a float",
    ("hidden_units", False): "return the hidden_units the trial gives, unchanged",
}


def _values(expected: dict):
    def verify(result):
        result = _configuration(result)
        for name, want in expected.items():
            value = result[name]
            if isinstance(want, int):
                if isinstance(value, bool) or not isinstance(value, int) or value != want:
                    raise Mismatch(
                        f"{name} = {want} (an int)",
                        f"{name} = {short(value)}",
                        _HINTS.get((name, isinstance(value, float) and value == want)),
                    )
            elif not isinstance(value, int | float) or not math.isclose(value, want, rel_tol=1e-9):
                raise Mismatch(f"{name} = {want:g}", f"{name} = {short(value)}", _HINTS.get(name))

    return verify


def _fixed_trial(params):
    return FixedTrial(params)


def _distributions():
    from optuna.distributions import FloatDistribution, IntDistribution

    expected = {
        "learning_rate": FloatDistribution(1e-4, 1e-1, log=True),
        "one_minus_beta1": FloatDistribution(1e-3, 1e-1, log=True),
        "hidden_units": IntDistribution(16, 256, log=True),
        "log2_batch_size": IntDistribution(4, 7),
    }

    def describe(d):
        kind = type(d).__name__.replace("Distribution", "").lower()
        return f"{kind} in [{d.low:g}, {d.high:g}]" + (", log=True" if d.log else "")

    def verify(result, observation):
        from optuna.distributions import json_to_distribution

        _configuration(result)
        reported = observation.probe if isinstance(observation.probe, dict) else {}
        try:
            asked_for = {str(k): json_to_distribution(str(v)) for k, v in reported.items()}
        except Exception:
            raise Mismatch("the trial's questions", short(reported)) from None
        if set(asked_for) != set(expected):
            raise Mismatch(
                f"the trial asked for {sorted(expected)}",
                f"it asked for {sorted(asked_for)}",
                _NAMES_HINT,
            )
        for name, want in expected.items():
            got = asked_for[name]
            if got != want:
                if type(got) is type(want) and (got.low, got.high) == (want.low, want.high):
                    hint = (
                        f"search {name} on a log scale, as section 2 chose: each factor (×10, or "
                        "a doubling) gets the same share of the trials"
                    )
                else:
                    hint = f"the range of {name} is [{want.low:g}, {want.high:g}], as stated"
                raise Mismatch(f"{name}: {describe(want)}", f"{name}: {describe(got)}", hint)

    return verify


_NAMES_HINT = (
    f"ask the trial for exactly these names: {TRIAL_PARAMETERS} (a study compares trials by name)"
)


def suggest_hyperparameters_cases() -> CaseTable:
    """The public cases of ``suggest_hyperparameters(trial)``: the right trial parameters,
    scales and values."""
    cases = [
        Case(
            "a FixedTrial: 1 − β1 = 0.01 means β1 = 0.99, log2 batch size 5 means 32",
            (
                _fixed_trial(
                    {
                        "learning_rate": 0.01,
                        "one_minus_beta1": 0.01,
                        "hidden_units": 100,
                        "log2_batch_size": 5,
                    }
                ),
            ),
            _values({"learning_rate": 0.01, "beta1": 0.99, "hidden_units": 100, "batch_size": 32}),
            f"ask the trial for {TRIAL_PARAMETERS}, then convert: β1 is one minus the second, "
            "the batch size 2 to the power of the fourth",
        ),
        Case(
            "another FixedTrial",
            (
                _fixed_trial(
                    {
                        "learning_rate": 3e-4,
                        "one_minus_beta1": 0.1,
                        "hidden_units": 16,
                        "log2_batch_size": 7,
                    }
                ),
            ),
            _values({"learning_rate": 3e-4, "beta1": 0.9, "hidden_units": 16, "batch_size": 128}),
            "return the values the trial gives, converted: nothing is fixed in the code",
        ),
        Case(
            "the ranges and scales asked of a real trial",
            (AskedTrial(seed=0),),
            _distributions(),
            "the learning rate in [1e-4, 1e-1] and 1 − β1 in [1e-3, 1e-1] as floats on a log "
            "scale, hidden_units in [16, 256] as an int on a log scale, log2_batch_size in "
            "[4, 7] as an int",
            probe="distributions",
        ),
    ]
    unknown = ((r"The value of the parameter '.*' is not found", _NAMES_HINT),)
    cases = [dataclasses.replace(c, error_hints=unknown) for c in cases]
    return CaseTable(
        "suggest_hyperparameters",
        tuple(cases),
        ("trial",),
        ref_tuning.suggest_hyperparameters,
        ladder=SUGGEST_LADDER,
    )


SUGGEST_LADDER = (
    Rung(
        "the idea",
        "Ask the trial for each hyperparameter on the scale where it matters (section 2's "
        "rule: a log scale for the learning rate, for 1 − β1 and for the number of hidden units; "
        "powers of 2 for the batch size), then "
        "convert what it answers into the four values the training code needs.",
    ),
    Rung(
        "the tools",
        "trial.suggest_float(name, low, high, log=True) and trial.suggest_int(name, low, high, "
        "log=True) (without log for log2_batch_size); β1 = 1 − one_minus_beta1; "
        "batch_size = 2 ** log2_batch_size.",
    ),
    Rung(
        "the code shape",
        'learning_rate = trial.suggest_float("learning_rate", ..., ..., log=True)\n'
        'one_minus_beta1 = trial.suggest_float("one_minus_beta1", ..., ..., log=True)\n'
        'hidden_units = trial.suggest_int("hidden_units", ..., ..., log=True)\n'
        'log2_batch_size = trial.suggest_int("log2_batch_size", ..., ...)\n'
        'return {"learning_rate": ..., "beta1": ..., "hidden_units": ..., "batch_size": ...}',
    ),
)


def suggest_hyperparameters_hidden_cases(rng) -> list:
    """A FixedTrial answering values drawn from ``rng``; expected from the reference."""
    import optuna

    params = {
        "learning_rate": float(10 ** rng.uniform(-4, -1)),
        "one_minus_beta1": float(10 ** rng.uniform(-3, -1)),
        "hidden_units": int(rng.integers(16, 257)),
        "log2_batch_size": int(rng.integers(4, 8)),
    }
    expected = ref_tuning.suggest_hyperparameters(optuna.trial.FixedTrial(params))
    return [
        Case(
            "a FixedTrial with random values",
            (_fixed_trial(params),),
            _values(expected),
            "return what the trial answers, converted: β1 is one minus one_minus_beta1, the batch "
            "size 2 to the power of log2_batch_size",
            hidden=True,
        )
    ]


def check_suggest_hyperparameters(suggest_hyperparameters) -> None:
    """Check ``suggest_hyperparameters(trial)``: the right trial parameters, scales and values."""
    run_cases(suggest_hyperparameters_cases(), suggest_hyperparameters)
