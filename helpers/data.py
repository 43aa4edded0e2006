"""The data sets shipped in ``data/``: nothing is downloaded at run time.

Digits: the UCI "Optical Recognition of Handwritten Digits" test set as bundled by
scikit-learn (1,797 grey 8×8 images, 10 classes, pixel values 0–16, CC BY 4.0). See
``data/README.md`` for source and checksum.
"""

import functools
import gzip
import hashlib
from importlib import resources
from pathlib import Path

import numpy as np

# Paths come from the package, never from the current directory: the repository's data/ folder
# is installed as helpers.shipped_data (see pyproject.toml), in a checkout and in a wheel alike.
DATA_DIR = resources.files("helpers.shipped_data")
DIGITS_FILE = "digits.csv.gz"
DIGITS_SHA256 = "09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22"
DIGITS_CLASSES = 10
DIGITS_IMAGE_SHAPE = (8, 8)

# A fixed, stratified split without randomness (so it can never change with a NumPy release):
# within each class, in file order, position p goes to test if p % 5 == 4, to dev if
# p % 5 == 3, to train otherwise. Sizes: train 1,085 · dev 357 · test 355.
_RESTORE = (
    f"restore it with `git checkout -- data/{DIGITS_FILE}` in a checkout of the repository, "
    "or reinstall dnn-week3-helpers (`pip install --force-reinstall --no-deps ...`)."
)
SPLITS = ("train", "dev", "test", "train+dev")
LAYOUTS = ("columns", "rows", "images")


def load_digits(split: str = "train", *, layout: str = "columns", data_dir=None):
    """Return ``(X, y)``: the digits of one split, pixels scaled to [0, 1].

    Args:
        split: ``"train"`` (1,085), ``"dev"`` (357, for tuning), ``"test"`` (355) or
            ``"train+dev"`` (1,442, for a final model after tuning).
        layout: ``"columns"`` gives X of shape ``(64, m)``, one example per column (the
            course's convention); ``"rows"`` gives ``(m, 64)`` (Keras); ``"images"`` gives
            ``(m, 8, 8)``.
        data_dir: folder holding ``digits.csv.gz``; defaults to the copy installed with
            ``helpers`` (the repository's ``data/``).

    Returns:
        X: float64 array in [0, 1] with the shape chosen by ``layout``.
        y: int64 labels 0–9 of shape ``(m,)``.

    Raises:
        FileNotFoundError: the data file is missing.
        ValueError: the file's checksum is wrong, or ``split``/``layout`` is unknown.
    """
    if not isinstance(split, str):
        raise TypeError(f"split must be a string, one of {SPLITS}, got {type(split).__name__}")
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")

    if data_dir is None:
        path = DATA_DIR / DIGITS_FILE
    else:
        path = (Path(data_dir) / DIGITS_FILE).resolve()
    pixels, labels = _read_digits(path)
    keep = np.isin(_split_of_each_example(labels), split.split("+"))
    X = pixels[keep] / 16.0
    y = labels[keep].copy()
    if layout == "columns":
        return X.T.copy(), y
    if layout == "images":
        return X.reshape(-1, *DIGITS_IMAGE_SHAPE), y
    return X, y


def _split_of_each_example(labels: np.ndarray) -> np.ndarray:
    position = np.empty(len(labels), dtype=np.int64)
    for k in range(DIGITS_CLASSES):
        members = np.flatnonzero(labels == k)
        position[members] = np.arange(len(members))
    return np.select([position % 5 == 4, position % 5 == 3], ["test", "dev"], "train")


@functools.lru_cache(maxsize=4)
def _read_digits(path):
    # path: a pathlib.Path, or the Traversable importlib.resources gives for the installed copy
    if not path.is_file():
        raise FileNotFoundError(
            f"digits data file not found: {path}. It ships with the package; {_RESTORE}"
        )
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if digest != DIGITS_SHA256:
        raise ValueError(
            f"digits data file is corrupt: {path} has SHA-256 {digest}, expected "
            f"{DIGITS_SHA256}. {_RESTORE}"
        )
    table = np.loadtxt(gzip.decompress(raw).decode().splitlines(), delimiter=",", dtype=np.int64)
    pixels, labels = table[:, :-1].astype(np.float64), table[:, -1]
    pixels.flags.writeable = labels.flags.writeable = False  # cached: callers get copies
    return pixels, labels
