import gzip
import shutil

import numpy as np
import pytest

from helpers import data
from helpers.data import load_digits

SIZES = {"train": 1085, "dev": 357, "test": 355, "train+dev": 1442}


@pytest.mark.parametrize("split", list(SIZES))
def test_each_split_has_documented_size_and_scaled_pixels(split):
    X, y = load_digits(split)
    assert X.shape == (64, SIZES[split])
    assert y.shape == (SIZES[split],)
    assert X.dtype == np.float64 and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    assert set(np.unique(y)) == set(range(10))


def test_splits_are_disjoint_and_cover_every_example():
    rows = {s: load_digits(s, layout="rows")[0] for s in ("train", "dev", "test")}
    all_rows = np.concatenate(list(rows.values()))
    assert len(all_rows) == 1797
    train_dev, _ = load_digits("train+dev", layout="rows")
    assert len(train_dev) == len(rows["train"]) + len(rows["dev"])


def _documented_split_by_hand():
    """The rule of data/README.md, applied to the raw file independently of helpers.data."""
    with gzip.open(data.DATA_DIR / data.DIGITS_FILE, "rt") as handle:
        table = np.array([[int(v) for v in line.split(",")] for line in handle])
    seen = {k: 0 for k in range(10)}
    names = []
    for label in table[:, -1]:
        p = seen[label]
        seen[label] += 1
        names.append("test" if p % 5 == 4 else "dev" if p % 5 == 3 else "train")
    return table, np.array(names)


def test_split_follows_the_documented_rule():
    table, names = _documented_split_by_hand()
    for split in ("train", "dev", "test"):
        X, y = load_digits(split, layout="rows")
        np.testing.assert_array_equal(y, table[names == split, -1])
        np.testing.assert_array_equal(X * 16, table[names == split, :-1])


def test_splits_are_stratified():
    totals = np.bincount(
        np.concatenate([load_digits(s)[1] for s in ("train", "dev", "test")]), minlength=10
    )
    for split, share in (("train", 0.6), ("dev", 0.2), ("test", 0.2)):
        counts = np.bincount(load_digits(split)[1], minlength=10)
        # each class keeps its share, within the rounding of a 5-example cycle
        assert np.all(np.abs(counts - share * totals) < 2), (split, counts, totals)


def test_layouts_hold_the_same_pixels():
    columns, _y = load_digits("dev")
    rows, _ = load_digits("dev", layout="rows")
    images, _ = load_digits("dev", layout="images")
    assert rows.shape == (357, 64) and images.shape == (357, 8, 8)
    np.testing.assert_array_equal(columns.T, rows)
    np.testing.assert_array_equal(images.reshape(357, 64), rows)


def test_callers_get_copies_not_the_cache():
    X, y = load_digits("train")
    X[:] = -1.0
    y[:] = -1
    X2, y2 = load_digits("train")
    assert X2.min() == 0.0 and y2.min() == 0


@pytest.mark.parametrize("split", ["training", "", "TRAIN", "train+test"])
def test_unknown_split_is_a_value_error_listing_the_choices(split):
    with pytest.raises(ValueError, match=r"split must be one of .*'train'.*got"):
        load_digits(split)


def test_split_of_wrong_type_is_a_type_error():
    with pytest.raises(TypeError, match="split must be a string"):
        load_digits(0)


def test_unknown_layout_is_a_value_error():
    with pytest.raises(ValueError, match="layout must be one of"):
        load_digits("train", layout="cols")


def test_missing_file_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"digits\.csv\.gz"):
        load_digits("train", data_dir=tmp_path)


def test_corrupt_file_is_reported_with_its_checksum(tmp_path):
    source = data.DATA_DIR / data.DIGITS_FILE
    corrupt = tmp_path / data.DIGITS_FILE
    shutil.copy(source, corrupt)
    raw = bytearray(corrupt.read_bytes())
    raw[-10] ^= 0xFF
    corrupt.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match=r"corrupt: .*digits\.csv\.gz has SHA-256 [0-9a-f]{64}"):
        load_digits("train", data_dir=tmp_path)


def test_shipped_file_matches_the_documented_checksum():
    readme = (data.DATA_DIR / "README.md").read_text()
    assert data.DIGITS_SHA256 in readme
