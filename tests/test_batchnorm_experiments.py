"""helpers.batchnorm_experiments: lesson 03's shipped table, its checks, and re-trained entries."""

import gzip
import shutil

import numpy as np
import pytest

from helpers import batchnorm_experiments
from helpers.batchnorm_experiments import (
    ADAM_RATES,
    DEV_EXAMPLES,
    EPOCHS,
    RATES,
    input_drift,
    layer2_inputs,
    load_batchnorm_experiments,
    planned_runs,
    run_experiment,
)
from helpers.batchnorm_network import init_network


@pytest.fixture(scope="module")
def table():
    return load_batchnorm_experiments()


def test_the_shipped_table_holds_every_planned_run(table):
    assert len(table.runs) == len(list(planned_runs())) == 840
    for run in table.runs:
        assert len(run.dev_correct) == EPOCHS
        assert all(0 <= c <= DEV_EXAMPLES for c in run.dev_correct)
    # a real experiment, not a constant: learning rates that fail and rates that learn
    final = table.grid("dev_correct", "rates", network="BN").values[:, :, -1]
    assert final.shape == (len(RATES), 10)
    assert final.max() > 0.97 * DEV_EXAMPLES and final.min() < 0.9 * DEV_EXAMPLES
    assert (np.ptp(final, axis=1) > 0).mean() > 0.5  # seeds differ


def test_measurements_exist_where_they_apply(table):
    for run in table.runs:
        trained = run.final_cost is not None
        assert (run.exact_correct is not None) == (trained and run.network != "plain")
        assert (run.drift_from_start is not None) == (trained and run.experiment == "rates")
        if run.variance_ratio is not None:
            # the mean of m values' population variance is (m - 1)/m of theirs, roughly
            assert run.variance_ratio < 1.2


def test_the_table_says_how_it_was_built(table):
    text = "\n".join(table.provenance)
    for needle in ("python -m helpers.batchnorm_experiments build", "seconds:", "numpy", "date:"):
        assert needle in text, needle


def test_a_grid_is_indexed_by_rate_and_seed(table):
    grid = table.grid("exact_correct", "last batch of 2", optimizer="adam", drop_last=True)
    assert grid.rates == ADAM_RATES and grid.seeds == tuple(range(5))
    assert grid.values.shape == (len(ADAM_RATES), 5)
    curves = table.grid("dev_correct", "batch size", network="plain", batch_size=2)
    assert curves.values.shape == (len(RATES), 5, EPOCHS)
    with pytest.raises(ValueError, match="one run per learning rate and seed"):
        table.grid("dev_correct", "batch size", network="plain")  # three batch sizes
    with pytest.raises(ValueError, match="measurement must be one of"):
        table.grid("seed", "rates", network="BN")
    with pytest.raises(ValueError, match="experiment must be one of"):
        table.grid("dev_correct", "sizes", network="BN")
    with pytest.raises(ValueError, match="setting may name"):
        table.grid("dev_correct", "rates", net="BN")


def test_a_changed_table_is_refused_by_its_checksum(tmp_path, monkeypatch):
    copy = tmp_path / batchnorm_experiments.TABLE_FILE
    shutil.copy(batchnorm_experiments.DATA_DIR / batchnorm_experiments.TABLE_FILE, copy)
    raw = bytearray(copy.read_bytes())
    raw[-12] ^= 1
    copy.write_bytes(bytes(raw))
    monkeypatch.setattr(batchnorm_experiments, "DATA_DIR", tmp_path)
    with pytest.raises(ValueError, match="table is corrupt"):
        load_batchnorm_experiments()
    copy.unlink()
    with pytest.raises(FileNotFoundError, match="table not found"):
        load_batchnorm_experiments()


def _shipped_lines():
    path = batchnorm_experiments.DATA_DIR / batchnorm_experiments.TABLE_FILE
    return gzip.decompress(path.read_bytes()).decode().splitlines()


def test_a_table_without_every_planned_run_is_refused(tmp_path):
    lines = _shipped_lines()
    path = tmp_path / "short.csv.gz"
    path.write_bytes(gzip.compress("\n".join(lines[:-1]).encode()))
    with pytest.raises(ValueError, match="exactly once"):
        load_batchnorm_experiments(path)
    fields = lines[-1].split(",")
    fields[7] = "1 2 3"  # three epochs, not twenty
    path.write_bytes(gzip.compress("\n".join([*lines[:-1], ",".join(fields)]).encode()))
    with pytest.raises(ValueError, match="needs 20 counts"):
        load_batchnorm_experiments(path)
    fields[7] = "many"
    path.write_bytes(gzip.compress("\n".join([*lines[:-1], ",".join(fields)]).encode()))
    with pytest.raises(ValueError, match="unreadable row"):
        load_batchnorm_experiments(path)


def test_input_drift_is_measured_in_starting_standard_deviations():
    rng = np.random.default_rng(0)
    start = rng.normal(0, 1, (3, 1000))
    start = 2 * (start - start.mean(axis=1, keepdims=True)) / start.std(axis=1, keepdims=True)
    moved = start + np.array([[1.0], [2.0], [-4.0]])  # 0.5, 1 and 2 starting stds
    assert input_drift(moved, start) == pytest.approx(1.0)
    dead = np.vstack([start, np.zeros((5, 1000))])  # units with no spread are left out
    assert input_drift(np.vstack([moved, np.ones((5, 1000))]), dead) == pytest.approx(1.0)


def test_layer2_inputs_include_the_plain_networks_bias():
    X = np.random.default_rng(0).normal(size=(4, 9))
    plain = init_network((4, 5, 6, 3), batchnorm=False, rng=np.random.default_rng(1))
    plain["b2"] = np.full((6, 1), 0.5)
    a1, z2 = layer2_inputs(plain, X)
    assert a1.shape == (5, 9) and np.allclose(z2, plain["W2"] @ a1 + 0.5)
    bn = init_network((4, 5, 6, 3), batchnorm=True, rng=np.random.default_rng(1))
    a1, z2 = layer2_inputs(bn, X)
    assert np.allclose(z2, bn["W2"] @ a1)


@pytest.mark.slow
@pytest.mark.parametrize(
    "setting",
    [
        {"experiment": "rates", "network": "noisy BN", "batch_size": 64, "learning_rate": 0.5},
        {"experiment": "rates", "network": "plain", "batch_size": 64, "learning_rate": 0.2},
        {"experiment": "batch size", "network": "BN", "batch_size": 8, "learning_rate": 0.1},
        {"experiment": "last batch of 2", "network": "BN", "batch_size": 57, "learning_rate": 0.5},
    ],
)
def test_retraining_an_entry_lands_within_its_seed_noise(table, setting):
    arguments = {"optimizer": "gd", "drop_last": False, "seed": 0, **setting}
    retrained = run_experiment(**arguments)
    stored = table.grid(
        "dev_correct",
        arguments["experiment"],
        network=arguments["network"],
        optimizer="gd",
        batch_size=arguments["batch_size"],
        drop_last=False,
    )
    seeds = stored.values[stored.rates.index(arguments["learning_rate"]), :, -1]
    # same seed: the same count on this machine; another CPU rounds differently, and training
    # amplifies that, but not beyond what another seed does (plus two dev images)
    margin = 2
    assert seeds.min() - margin <= retrained.dev_correct[-1] <= seeds.max() + margin, (
        retrained.dev_correct[-1],
        seeds,
    )
