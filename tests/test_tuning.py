"""helpers.tuning: the search space, the objective, Optuna glue and workers sharing a study."""

import json
import math
import os
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest

from helpers.tuning import (
    HYPERPARAMETER_NAMES,
    SEARCH_SPACE,
    Hyperparameter,
    from_unit,
    make_sampler,
    optuna_objective,
    suggest_hyperparameters,
    train_and_evaluate,
    unit_ranges,
)

SPACE = {h.name: h for h in SEARCH_SPACE}
GOOD = {"learning_rate": 3e-3, "beta1": 0.9, "hidden_units": 32, "batch_size": 64}


# ---- the search space ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, message",
    [
        (("x", 1, 2, "linear"), "scale must be one of"),
        (("x", 2, 1, "log"), "need low < high"),
        (("x", 0, 1, "log"), "log scale needs low > 0"),
        (("x", 0.9, 1.0, "one_minus_log"), "0 < low < high < 1"),
        (("x", 1.5, 8, "int"), "integer bounds"),
        (("x", 16, 100, "power_of_two"), "powers of two"),
    ],
)
def test_a_bad_hyperparameter_is_refused_with_its_name(args, message):
    with pytest.raises(ValueError, match=message):
        Hyperparameter(*args)


def test_bounds_must_be_numbers():
    with pytest.raises(TypeError, match="must be numbers"):
        Hyperparameter("x", "1", 2, "log")


def test_the_ends_of_the_unit_interval_are_the_ends_of_each_range():
    for h in SEARCH_SPACE:
        assert h.from_unit(0.0) == pytest.approx(h.low)
        assert h.from_unit(1.0) == pytest.approx(h.high)


def test_the_middle_is_the_geometric_middle_on_log_scales():
    assert SPACE["learning_rate"].from_unit(0.5) == pytest.approx(10**-2.5)
    assert SPACE["beta1"].from_unit(0.5) == pytest.approx(0.99)


def test_log_scale_gives_each_decade_the_same_share():
    u = np.linspace(0, 1, 3001)
    decades = Counter(math.floor(math.log10(SPACE["learning_rate"].from_unit(x))) for x in u[:-1])
    assert sorted(decades) == [-4, -3, -2]
    assert max(decades.values()) - min(decades.values()) <= 2


def test_one_minus_beta_is_log_uniform():
    u = np.linspace(0, 1, 2001)[:-1]
    above = np.mean([SPACE["beta1"].from_unit(x) > 0.99 for x in u])
    assert above == pytest.approx(0.5, abs=0.001)


@pytest.mark.parametrize(
    "hyperparameter, values",
    [(Hyperparameter("units", 16, 256, "int"), range(16, 257)), (SPACE["batch_size"], None)],
)
def test_integer_scales_give_every_allowed_value_the_same_share(hyperparameter, values):
    values = list(values) if values else [16, 32, 64, 128]
    u = (np.arange(len(values) * 100) + 0.5) / (len(values) * 100)
    counts = Counter(hyperparameter.from_unit(x) for x in u)
    assert sorted(counts) == values
    assert set(counts.values()) == {100}
    assert all(isinstance(v, int) for v in counts)


def test_hidden_units_are_log_uniform_integers_as_optuna_draws_them():
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    units = SPACE["hidden_units"]
    u = (np.arange(4000) + 0.5) / 4000
    ours = np.array([units.from_unit(x) for x in u])
    assert ours.min() == 16 and ours.max() == 256 and len(set(ours)) == 241
    # every doubling about equally likely: 16–31, 32–63, 64–127, 128–256
    shares = [np.mean((ours >= lo) & (ours < 2 * lo)) for lo in (16, 32, 64, 128)]
    assert max(shares) - min(shares) < 0.03, shares
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    theirs = np.array([units.suggest(study.ask()) for _ in range(4000)])
    for lo in (16, 32, 64, 128):
        share = np.mean((theirs >= lo) & (theirs < 2 * lo))
        assert share == pytest.approx(np.mean((ours >= lo) & (ours < 2 * lo)), abs=0.03)


@pytest.mark.parametrize("u", [-0.1, 1.01, True, "0.5", None])
def test_a_unit_coordinate_outside_zero_one_is_refused(u):
    with pytest.raises(ValueError, match="learning_rate: unit coordinate"):
        SPACE["learning_rate"].from_unit(u)


def test_from_unit_maps_a_whole_point():
    point = dict.fromkeys(HYPERPARAMETER_NAMES, 0.0)
    assert from_unit(point) == {
        "learning_rate": pytest.approx(1e-4),
        "beta1": pytest.approx(0.9),
        "hidden_units": 16,
        "batch_size": 16,
    }
    with pytest.raises(ValueError, match="no value for \\['batch_size'\\]"):
        from_unit({n: 0.5 for n in HYPERPARAMETER_NAMES[:3]})
    with pytest.raises(TypeError, match="point must be a dict"):
        from_unit([0.5] * 4)


def test_unit_ranges_and_their_margin():
    assert unit_ranges() == dict.fromkeys(HYPERPARAMETER_NAMES, (0.0, 1.0))
    assert unit_ranges(0.25)["beta1"] == (0.25, 0.75)
    for bad in (-0.1, 0.5, "0.1"):
        with pytest.raises(ValueError, match="margin"):
            unit_ranges(bad)


# ---- Optuna -----------------------------------------------------------------------------------


def test_suggest_hyperparameters_converts_what_the_trial_gives():
    import optuna

    trial = optuna.trial.FixedTrial(
        {"learning_rate": 0.01, "one_minus_beta1": 0.001, "hidden_units": 40, "log2_batch_size": 6}
    )
    assert suggest_hyperparameters(trial) == {
        "learning_rate": 0.01,
        "beta1": pytest.approx(0.999),
        "hidden_units": 40,
        "batch_size": 64,
    }


def test_random_sampling_through_optuna_follows_the_scales():
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    draws = [suggest_hyperparameters(study.ask()) for _ in range(2000)]
    beta1 = np.array([d["beta1"] for d in draws])
    rates = np.array([d["learning_rate"] for d in draws])
    assert 0.9 <= beta1.min() and beta1.max() <= 0.999
    assert np.mean(beta1 > 0.99) == pytest.approx(0.5, abs=0.04)
    assert np.mean(rates < 1e-3) == pytest.approx(1 / 3, abs=0.04)
    assert {d["batch_size"] for d in draws} == {16, 32, 64, 128}


def test_make_sampler_names_the_choices():
    import optuna

    assert isinstance(make_sampler("random", 0), optuna.samplers.RandomSampler)
    assert isinstance(make_sampler("tpe", 0), optuna.samplers.TPESampler)
    with pytest.raises(ValueError, match="'random' or 'tpe'"):
        make_sampler("grid", 0)


# ---- the objective ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change, error, message",
    [
        ({"learning_rate": 0}, ValueError, "learning_rate must be > 0"),
        ({"beta1": 1.0}, ValueError, "beta1 must be in \\[0, 1\\)"),
        ({"hidden_units": 32.0}, ValueError, "hidden_units must be a positive integer"),
        ({"batch_size": 0}, ValueError, "batch_size must be a positive integer"),
    ],
)
def test_bad_hyperparameters_are_refused_before_any_training(change, error, message):
    with pytest.raises(error, match=message):
        train_and_evaluate(GOOD | change)


def test_bad_arguments_of_train_and_evaluate():
    with pytest.raises(ValueError, match="no value for \\['batch_size'\\]"):
        train_and_evaluate({k: v for k, v in GOOD.items() if k != "batch_size"})
    with pytest.raises(TypeError, match="hparams must be a dict"):
        train_and_evaluate([1, 2])
    with pytest.raises(ValueError, match="epochs must be a positive integer"):
        train_and_evaluate(GOOD, epochs=0)
    with pytest.raises(TypeError, match="report must be callable"):
        train_and_evaluate(GOOD, report=3)
    with pytest.raises(ValueError, match="split must be 'dev' or 'test'"):
        train_and_evaluate(GOOD, split="train")


@pytest.mark.slow
def test_a_trial_is_deterministic_and_reports_every_epoch():
    reports = []
    first = train_and_evaluate(GOOD, epochs=2, report=lambda e, a: reports.append((e, a)))
    again = train_and_evaluate(GOOD, epochs=2)
    assert first == again
    assert [e for e, _ in reports] == [1, 2] and reports[-1][1] == first
    # 357 dev images: the accuracy is a count over 357, and 2 epochs learn far beyond chance
    assert round(first * 357) == pytest.approx(first * 357) and first > 0.5


@pytest.mark.slow
def test_the_optuna_objective_is_pruned_when_the_pruner_says_so():
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        direction="maximize",
        sampler=optuna.samplers.RandomSampler(seed=0),
        pruner=optuna.pruners.ThresholdPruner(lower=1.01),  # no accuracy reaches it
    )
    study.optimize(optuna_objective(epochs=3), n_trials=1)
    (trial,) = study.trials
    assert trial.state == optuna.trial.TrialState.PRUNED
    assert list(trial.intermediate_values) == [1]


# ---- workers sharing one study -------------------------------------------------------------


def _worker(storage, seed, n_trials):
    command = [sys.executable, "-m", "helpers.tuning", "--storage", storage, "--study-name"]
    command += ["shared", "--n-trials", str(n_trials), "--seed", str(seed), "--epochs", "1"]
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    return subprocess.Popen(
        [*command, "--threads", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _two_workers_share_one_study(storage, n_per_worker=3):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    optuna.create_study(storage=storage, study_name="shared", direction="maximize")
    workers = [_worker(storage, seed, n_per_worker) for seed in (1, 2)]
    reported = []
    for worker in workers:
        out, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err
        reported.append(json.loads(out.splitlines()[-1]))
    trials = optuna.load_study(study_name="shared", storage=storage).trials
    total = 2 * n_per_worker
    numbers = [t.number for t in trials]
    # every trial exactly once: none lost, none duplicated, each run by the worker that says so
    assert sorted(numbers) == list(range(total))
    assert sorted(n for r in reported for n in r["trials"]) == list(range(total))
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    assert all(0 <= t.value <= 1 for t in trials)
    by_worker = Counter(t.user_attrs["worker"].split(":")[1] for t in trials)
    assert by_worker == {str(r["pid"]): n_per_worker for r in reported}


@pytest.mark.slow
def test_two_worker_processes_share_one_sqlite_study(tmp_path):
    _two_workers_share_one_study(f"sqlite:///{tmp_path / 'study.db'}")


@pytest.mark.distributed
def test_two_worker_processes_share_one_postgresql_study():
    url = os.environ.get("DNN_WEEK3_POSTGRES_URL")
    if not url:
        pytest.skip("needs a PostgreSQL server: run `make test-distributed`")
    _two_workers_share_one_study(url, n_per_worker=4)


def test_the_worker_command_line_refuses_bad_counts():
    command = [sys.executable, "-m", "helpers.tuning", "--storage", "sqlite://", "--study-name"]
    result = subprocess.run(
        [*command, "x", "--n-trials", "0"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2 and "--n-trials and --epochs must be >= 1" in result.stderr
