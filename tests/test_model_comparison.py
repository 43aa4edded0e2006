"""helpers.model_comparison: notebook 07's precomputed table, its checks, and the choice of rate."""

import gzip
import shutil

import numpy as np
import pytest

from helpers import model_comparison
from helpers.model_comparison import (
    DEV_EXAMPLES,
    HELD_OUT_SEEDS,
    MODELS,
    RATES,
    SEEDS,
    SELECTION_SEEDS,
    ComparisonTable,
    load_comparison_table,
    train_entry,
)


@pytest.fixture(scope="module")
def table():
    return load_comparison_table()


def _synthetic(counts: dict) -> ComparisonTable:
    correct = {m: np.asarray(c) for m, c in counts.items()}
    cost = {m: np.zeros(c.shape) for m, c in correct.items()}
    return ComparisonTable(
        {m: RATES[m] for m in correct}, {m: SEEDS[m] for m in correct}, correct, cost, ()
    )


# ---- the shipped table ------------------------------------------------------------------------


def test_the_shipped_table_covers_every_model_rate_and_seed(table):
    assert set(table.correct) == set(MODELS)
    for model in MODELS:
        assert table.correct[model].shape == (7, len(SEEDS[model]))
        assert table.cost[model].shape == (7, len(SEEDS[model]))
        assert ((table.correct[model] >= 0) & (table.correct[model] <= DEV_EXAMPLES)).all()
    assert set(SELECTION_SEEDS) | set(HELD_OUT_SEEDS) == set(SEEDS["batchnorm"])
    assert not set(SELECTION_SEEDS) & set(HELD_OUT_SEEDS)
    # a real measurement, not a constant: good and poor rates, and seeds that differ
    for model in ("batchnorm", "plain"):
        assert table.correct[model].max() > 0.95 * DEV_EXAMPLES
        assert table.correct[model].min() < table.correct[model].max() - 10
        assert (np.ptp(table.correct[model], axis=1) > 0).sum() >= 4


def test_the_table_says_how_it_was_built(table):
    text = "\n".join(table.provenance)
    for needle in ("python -m helpers.model_comparison build", "seconds:", "tensorflow", "date:"):
        assert needle in text, needle


def test_the_networks_share_the_tuning_tables_learning_rates():
    from helpers.tuning_table import AXES

    assert RATES["batchnorm"] == RATES["plain"] == AXES["learning_rate"]


def test_a_changed_table_is_refused_by_its_checksum(tmp_path, monkeypatch):
    copy = tmp_path / model_comparison.TABLE_FILE
    shutil.copy(model_comparison.DATA_DIR / model_comparison.TABLE_FILE, copy)
    raw = bytearray(copy.read_bytes())
    raw[-12] ^= 1
    copy.write_bytes(bytes(raw))
    monkeypatch.setattr(model_comparison, "DATA_DIR", tmp_path)
    with pytest.raises(ValueError, match="comparison table is corrupt"):
        load_comparison_table()
    copy.unlink()
    with pytest.raises(FileNotFoundError, match="comparison table not found"):
        load_comparison_table()


def _rewritten(tmp_path, change):
    text = gzip.decompress((model_comparison.DATA_DIR / model_comparison.TABLE_FILE).read_bytes())
    lines = change(text.decode().splitlines())
    path = tmp_path / "changed.csv.gz"
    path.write_bytes(gzip.compress("\n".join(lines).encode()))
    return path


def test_a_table_with_a_row_off_the_grid_or_missing_is_refused(tmp_path):
    def off_grid(lines):
        fields = lines[-1].split(",")
        return [*lines[:-1], ",".join([fields[0], "0.5", *fields[2:]])]

    with pytest.raises(ValueError, match="is not in the table's grid"):
        load_comparison_table(_rewritten(tmp_path, off_grid))
    with pytest.raises(ValueError, match="exactly once"):
        load_comparison_table(_rewritten(tmp_path, lambda lines: lines[:-1]))
    with pytest.raises(ValueError, match="expected the columns"):
        load_comparison_table(_rewritten(tmp_path, lambda lines: [line.upper() for line in lines]))


# ---- choosing a rate ------------------------------------------------------------------------


def test_the_choice_is_the_best_mean_over_the_seeds_asked_for():
    counts = np.full((7, 10), 300)
    counts[2, :5] = 340  # best on seeds 0-4 ...
    counts[4, 5:] = 350  # ... and on seeds 5-9
    table = _synthetic({"batchnorm": counts})
    assert table.choose("batchnorm", SELECTION_SEEDS) == 2
    assert table.choose("batchnorm", HELD_OUT_SEEDS) == 4
    assert table.correct_at("batchnorm", (0, 5)).tolist()[2] == [340, 300]
    assert table.cost_at("batchnorm", (0, 5)).shape == (7, 2)


def test_a_tie_goes_to_the_smaller_rate():
    counts = np.full((7, 10), 300)
    counts[[3, 5]] = 340
    assert _synthetic({"plain": counts}).choose("plain") == 3


def test_bad_questions_to_the_table_are_named(table):
    with pytest.raises(ValueError, match="model must be one of"):
        table.choose("resnet")
    with pytest.raises(ValueError, match="softmax has seeds"):
        table.correct_at("softmax", (1,))
    with pytest.raises(ValueError, match="model must be one of"):
        table.cost_at("resnet")
    with pytest.raises(ValueError, match="batchnorm has seeds"):
        table.choose("batchnorm", ())


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        (("resnet", 0.01, 0), ValueError, "model must be one of"),
        (("plain", "0.01", 0), TypeError, "learning_rate must be a number"),
        (("plain", 0.0, 0), ValueError, "learning_rate must be > 0"),
        (("plain", 0.01, -1), ValueError, "seed must be an int >= 0"),
    ],
)
def test_bad_entries_are_named_before_any_training(args, error, message):
    with pytest.raises(error, match=message):
        train_entry(*args)


# ---- the entries are real ---------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    ("model", "rate_index", "seed"), [("batchnorm", 3, 0), ("plain", 2, 5), ("softmax", 4, 0)]
)
def test_retraining_an_entry_lands_within_its_seed_noise(table, model, rate_index, seed):
    from helpers import seed_tensorflow

    seed_tensorflow(0)
    correct, cost = train_entry(model, RATES[model][rate_index], seed)
    stored = table.correct[model][rate_index]
    # on the machine that built it, the same number; another CPU rounds differently and
    # training amplifies that, but not beyond what another seed does (plus two dev images)
    assert stored.min() - 2 <= correct <= stored.max() + 2, (correct, stored)
    assert np.isfinite(cost) and cost < 0.5
