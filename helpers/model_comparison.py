"""Notebook 07's comparison of models, computed in advance: dev results at every learning rate.

A fair comparison gives each model its own learning rate, chosen on dev, and judges it over
several seeds. That is 7 rates × 10 seeds × 2 networks of 30 epochs each: minutes, not the
seconds a lesson may take. The table in ``data/model_comparison.csv.gz`` holds the results; the
notebook reads it, and re-trains one entry to show it is real.

Three models, each trained on the 1,085 ``train`` images and scored on the 357 ``dev`` images:

=============  ================================================================  ============
model          training                                                          rates
=============  ================================================================  ============
``batchnorm``  :func:`helpers.tf_digits.build_model` ``(128, 128)``; Adam whose    10⁻⁴ … 10⁻¹
               rate falls from α to 0 along a cosine over 30 epochs; batches of
               32 (lesson 07's recipe)
``plain``      the same with ``batchnorm=False`` (a bias in each layer)            10⁻⁴ … 10⁻¹
``softmax``    lesson 05's softmax regression: 400 full-batch gradient-descent     10⁻¹·⁵ … 10¹·⁵
               steps from zeros (:func:`helpers.softmax.softmax_regression_step`)
=============  ================================================================  ============

Rates are half a decade apart, 7 per model; the networks' grid is that of notebook 08's tuning
table (:data:`helpers.tuning_table.AXES`), so the two tables can be read side by side. The
networks are trained with seeds 0–9 (:data:`SEEDS`): seeds 0–4 choose the rate
(:data:`SELECTION_SEEDS`), seeds 5–9 measure the choice afresh (:data:`HELD_OUT_SEEDS`).
Softmax regression has nothing random (zeros, full batch), so it has seed 0 only. Built by::

    python -m helpers.model_comparison build

(about 15 minutes on one core; the file's header says how long it took, on what, with which
versions) and read by :func:`load_comparison_table`, which checks its SHA-256.
"""

import io
import math
import sys
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from helpers.shipped_tables import build_command, provenance, read_table, write_table

MODELS = ("batchnorm", "plain", "softmax")
NETWORK_RATES = tuple(10 ** (-4 + k / 2) for k in range(7))
RATES = {
    "batchnorm": NETWORK_RATES,
    "plain": NETWORK_RATES,
    "softmax": tuple(10 ** (-1.5 + k / 2) for k in range(7)),
}
SEEDS = {"batchnorm": tuple(range(10)), "plain": tuple(range(10)), "softmax": (0,)}
SELECTION_SEEDS = (0, 1, 2, 3, 4)
HELD_OUT_SEEDS = (5, 6, 7, 8, 9)
EPOCHS = 30
BATCH_SIZE = 32
HIDDEN_UNITS = (128, 128)
SOFTMAX_STEPS = 400
DEV_EXAMPLES = 357
DATA_DIR = resources.files("helpers.shipped_data")
TABLE_FILE = "model_comparison.csv.gz"
TABLE_SHA256 = "68ef3a2af6a679eb1344eeccf8d8d65411fea4e820162d30b4eedea06469497e"
COLUMNS = ("model", "learning_rate", "seed", "dev_correct", "dev_cost")
_RESTORE = (
    f"restore it with `git checkout -- data/{TABLE_FILE}` in a checkout of the repository, "
    "or reinstall dnn-week3-helpers; `python -m helpers.model_comparison build` rebuilds it."
)


def _check_entry(model, learning_rate, seed):
    if model not in MODELS:
        raise ValueError(f"model must be one of {MODELS}, got {model!r}")
    if isinstance(learning_rate, bool) or not isinstance(learning_rate, int | float):
        raise TypeError(f"learning_rate must be a number, got {learning_rate!r}")
    if not learning_rate > 0:
        raise ValueError(f"learning_rate must be > 0, got {learning_rate!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be an int >= 0, got {seed!r}")


def cosine_adam(learning_rate: float, decay_steps: int):
    """Return Adam whose rate falls from ``learning_rate`` to 0 along a cosine over
    ``decay_steps`` steps (``keras.optimizers.schedules.CosineDecay``), lesson 07's optimizer."""
    import keras

    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps)
    return keras.optimizers.Adam(learning_rate=schedule)


def _network_result(batchnorm: bool, learning_rate: float, seed: int):
    import keras
    import tensorflow as tf

    from helpers.data import load_digits
    from helpers.tf_digits import build_model, compute_total_loss, make_pipeline, train_step

    x, labels = load_digits("train", layout="rows")
    x_dev, labels_dev = load_digits("dev", layout="rows")
    keras.utils.set_random_seed(seed)
    model = build_model(HIDDEN_UNITS, batchnorm=batchnorm)
    dataset, steps = make_pipeline(
        x.astype("float32"), tf.one_hot(labels, 10), batch_size=BATCH_SIZE, seed=seed
    )
    optimizer = cosine_adam(learning_rate, EPOCHS * steps)
    # compiled once per batch shape (32, and the last batch of 29), as in the notebook's loop
    step = tf.function(lambda x_batch, y_batch: train_step(model, optimizer, x_batch, y_batch))
    batches = iter(dataset)
    for _ in range(EPOCHS * steps):
        step(*next(batches))
    logits = model(x_dev.astype("float32"), training=False)
    cost = float(compute_total_loss(logits, tf.one_hot(labels_dev, 10))) / len(labels_dev)
    return int(np.sum(np.argmax(logits.numpy(), axis=1) == labels_dev)), cost


def _softmax_result(learning_rate: float):
    from helpers.data import load_digits
    from helpers.softmax import cross_entropy_cost, one_hot, softmax, softmax_regression_step

    X, labels = load_digits("train")
    X_dev, labels_dev = load_digits("dev")
    Y = one_hot(labels, 10)
    W, b = np.zeros((10, X.shape[0])), np.zeros((10, 1))
    with np.errstate(all="ignore"):  # a rate that diverges is recorded, not warned about
        for _ in range(SOFTMAX_STEPS):
            W, b, _ = softmax_regression_step(W, b, X, Y, learning_rate)
        probabilities = softmax(W @ X_dev + b)
        cost = cross_entropy_cost(probabilities, one_hot(labels_dev, 10))
    return int(np.sum(np.argmax(probabilities, axis=0) == labels_dev)), cost


def train_entry(model: str, learning_rate: float, seed: int = 0):
    """Train one entry of the table; return ``(dev_correct, dev_cost)``.

    Args:
        model: ``"batchnorm"``, ``"plain"`` or ``"softmax"`` (see the module's docstring).
        learning_rate: α > 0 (the start of the cosine for the networks).
        seed: seeds the networks' initial weights and shuffling; softmax regression ignores it.

    Returns:
        The number of the 357 dev images classified right, and the mean cross-entropy on dev
        (``nan`` or ``inf`` when training diverged).
    """
    _check_entry(model, learning_rate, seed)
    if model == "softmax":
        return _softmax_result(float(learning_rate))
    return _network_result(model == "batchnorm", float(learning_rate), seed)


@dataclass(frozen=True)
class ComparisonTable:
    """The table: for each model, ``correct[model][i, s]`` dev images right (of 357) and
    ``cost[model][i, s]`` the dev cost, at rate ``rates[model][i]`` and seed ``seeds[model][s]``.

    Attributes:
        rates, seeds: :data:`RATES` and :data:`SEEDS`.
        correct: ``{model: int array (7, n_seeds)}``.
        cost: ``{model: float array (7, n_seeds)}``.
        provenance: the ``#`` header lines of the file (how, when, on what it was built).
    """

    rates: dict
    seeds: dict
    correct: dict
    cost: dict
    provenance: tuple

    def _columns(self, model, seeds):
        if model not in self.correct:
            raise ValueError(f"model must be one of {tuple(self.correct)}, got {model!r}")
        if seeds is None:
            return list(range(len(self.seeds[model])))
        missing = [s for s in seeds if s not in self.seeds[model]]
        if missing or not seeds:
            raise ValueError(f"{model} has seeds {self.seeds[model]}, asked for {seeds!r}")
        return [self.seeds[model].index(s) for s in seeds]

    def correct_at(self, model: str, seeds=None) -> np.ndarray:
        """Return the ``(7, len(seeds))`` counts of right dev images (all seeds by default)."""
        columns = self._columns(model, seeds)
        return self.correct[model][:, columns]

    def cost_at(self, model: str, seeds=None) -> np.ndarray:
        """Return the ``(7, len(seeds))`` mean dev costs (all seeds by default)."""
        columns = self._columns(model, seeds)
        return self.cost[model][:, columns]

    def choose(self, model: str, seeds=None) -> int:
        """Return the index of the rate with the most dev images right on average over
        ``seeds``; a tie goes to the smaller rate (the safer step)."""
        means = self.correct_at(model, seeds).mean(axis=1)
        return int(np.flatnonzero(means == means.max())[0])


def _format_number(value: float) -> str:
    return f"{value:.6g}" if math.isfinite(value) else ("nan" if math.isnan(value) else "inf")


def build(path, *, log=sys.stdout) -> str:
    """Train every entry of the table, write it to ``path``; return the file's SHA-256.

    TensorFlow is limited to one thread (one core of a shared machine), and the gzip stream
    carries no time stamp, so the same results always give the same bytes.
    """
    from helpers import seed_tensorflow

    seed_tensorflow(0)
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    entries = [(m, rate, s) for m in MODELS for rate in RATES[m] for s in SEEDS[m]]
    rows, start = [], time.perf_counter()
    for n, (model, rate, seed) in enumerate(entries, start=1):
        correct, cost = train_entry(model, rate, seed)
        rows.append(f"{model},{rate:.6g},{seed},{correct},{_format_number(cost)}")
        if n % 10 == 0 or n == len(entries):
            print(f"{n}/{len(entries)} trainings, {time.perf_counter() - start:.0f} s", file=log)
    header = [
        "# Notebook 07's comparison of models: dev images right (of 357) and dev cost of each",
        f"# model at each learning rate and seed; networks {EPOCHS} epochs of cosine-decayed Adam,",
        f"# batch {BATCH_SIZE}; softmax regression {SOFTMAX_STEPS} full-batch steps from zeros.",
        *provenance(
            "python -m helpers.model_comparison build", time.perf_counter() - start, len(rows)
        ),
    ]
    return write_table(path, header, COLUMNS, rows)


def load_comparison_table(path=None) -> ComparisonTable:
    """Return the shipped :class:`ComparisonTable` (or the one at ``path``), checksum verified.

    Raises:
        FileNotFoundError: the file is missing.
        ValueError: its checksum is wrong (only for the shipped file), or its rows do not cover
            every model, rate and seed exactly once.
    """
    if path is None:
        source, expected_sha = DATA_DIR / TABLE_FILE, TABLE_SHA256
    else:
        source, expected_sha = Path(path), None
    header, body = read_table(
        source, expected_sha, name="comparison table", columns=COLUMNS, restore=_RESTORE
    )
    correct = {m: np.full((len(RATES[m]), len(SEEDS[m])), -1) for m in MODELS}
    cost = {m: np.full((len(RATES[m]), len(SEEDS[m])), np.nan) for m in MODELS}
    rows = np.genfromtxt(io.StringIO("\n".join(body)), delimiter=",", dtype=None, ndmin=1)
    for model, rate, seed, right, dev_cost in rows.tolist():
        model = model.decode() if isinstance(model, bytes) else model
        # rates are written with 6 significant digits: match each to its grid by ratio
        offsets = np.abs(np.log(RATES.get(model, (np.nan,))) - np.log(rate))
        if model not in MODELS or offsets.min() > 1e-5 or seed not in SEEDS[model]:
            raise ValueError(f"{source}: row {model},{rate},{seed} is not in the table's grid")
        index = (int(offsets.argmin()), SEEDS[model].index(seed))
        correct[model][index], cost[model][index] = right, dev_cost
    if any((c < 0).any() for c in correct.values()) or len(rows) != sum(
        c.size for c in correct.values()
    ):
        raise ValueError(f"{source}: expected every model, rate and seed exactly once")
    return ComparisonTable(dict(RATES), dict(SEEDS), correct, cost, header)


def main(argv=None) -> int:
    return build_command(
        argv,
        module="helpers.model_comparison",
        what="notebook 07's comparison table (every model, rate and seed)",
        table_file=TABLE_FILE,
        build=build,
    )


if __name__ == "__main__":
    sys.exit(main())
