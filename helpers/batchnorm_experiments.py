"""Lesson 03's experiments on the NumPy batch-norm network, trained once and shipped as a table.

A fair comparison of the plain and the batch-norm network gives each its own best learning
rate, and finding it takes a sweep over rates and seeds: hundreds of trainings, too slow to run
while the notebook executes. :func:`build` (``python -m helpers.batchnorm_experiments build``)
runs them all into ``data/batchnorm_experiments.csv.gz``; :func:`load_batchnorm_experiments`
reads the table back and checks its SHA-256; :func:`run_experiment` re-trains any one entry.

Every run is :func:`helpers.batchnorm_network.train_network` on the digits (trained on
``train``, scored on the 357 ``dev`` images after every epoch, batch norm normalizing with its
running averages as at test time): two hidden layers of 64 units, 20 epochs, ε = 1e-5, β = 0.9
for the running averages; lesson 03's network. The three experiments:

``"rates"``
    the plain, the batch-norm and the noisy batch-norm network (:data:`NOISE_STRENGTH`, see
    :func:`helpers.batchnorm_network.draw_bn_noise`), gradient descent on mini-batches of 64, at
    every rate of :data:`RATES`, seeds 0–9 (0–4 to choose a rate, 5–9 to measure the choice on
    fresh seeds).
``"batch size"``
    the plain and the batch-norm network, gradient descent on mini-batches of 2, 4 and 8, every
    rate of :data:`RATES`, seeds 0–4.
``"last batch of 2"``
    the batch-norm network on mini-batches of 57: 1,085 = 19 × 57 + 2, so every epoch ends with
    a batch of 2 images, as in lesson 07 (1,442 = 45 × 32 + 2); that batch kept or dropped;
    gradient descent at every rate of :data:`RATES`, Adam at every rate of :data:`ADAM_RATES`,
    seeds 0–4.
"""

import csv
import datetime
import io
import itertools
import os
import platform
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, fields
from importlib import resources
from multiprocessing import get_context
from pathlib import Path
from typing import NamedTuple

import numpy as np

from helpers.batchnorm_network import (
    draw_bn_noise,
    forward,
    population_statistics,
    predict,
    train_network,
    uses_batchnorm,
)
from helpers.shipped_tables import build_command, cpu_name, read_table, write_table

RATES = (0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)
ADAM_RATES = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05)
NETWORKS = ("plain", "BN", "noisy BN")
EXPERIMENTS = ("rates", "batch size", "last batch of 2")
SMALL_BATCHES = (2, 4, 8)
REMAINDER_BATCH = 57  # 1,085 training images = 19 × 57 + 2
HIDDEN = (64, 64)
EPOCHS = 20
NOISE_STRENGTH = 1.0
DEV_EXAMPLES = 357

DATA_DIR = resources.files("helpers.shipped_data")
TABLE_FILE = "batchnorm_experiments.csv.gz"
TABLE_SHA256 = "b012f36537e847211b08270f848ae055e078ebfb0a6c8e08d98b73c0ac98c764"
COLUMNS = (
    "experiment",
    "network",
    "optimizer",
    "batch_size",
    "drop_last",
    "learning_rate",
    "seed",
    "dev_correct",
    "final_cost",
    "exact_correct",
    "batch_mode_correct",
    "variance_ratio",
    "drift_from_start",
    "drift_per_epoch",
)
_RESTORE = (
    f"restore it with `git checkout -- data/{TABLE_FILE}` in a checkout of the repository, "
    "or reinstall dnn-week3-helpers; `python -m helpers.batchnorm_experiments build` rebuilds it."
)


@dataclass(frozen=True)
class Run:
    """One training run of the table and what was measured on it.

    Attributes:
        experiment, network, optimizer, batch_size, drop_last, learning_rate, seed: the setting
            (``network`` one of :data:`NETWORKS`, ``optimizer`` ``"gd"`` or ``"adam"``).
        dev_correct: correct dev images (of 357) after each of the 20 epochs, normalizing with
            the running averages; 0 from the epoch where training diverged.
        final_cost: the mean mini-batch cost of the last epoch, as the optimizer saw it
            (batch norm in training mode).
        exact_correct: batch-norm networks only, after the last epoch: correct dev images when
            normalizing with the exact statistics of the whole training set instead.
        batch_mode_correct: batch-norm networks only: correct dev images when the dev set is cut
            into random batches of ``batch_size`` (the last one smaller), each normalized with
            its own statistics as in training.
        variance_ratio: batch-norm networks only: median over layer 1's units of the running
            variance divided by the exact training-set variance.
        drift_from_start, drift_per_epoch: experiment ``"rates"`` only: how far layer 2's input
            ``a^[1]`` moved (:func:`input_drift`, on the dev set) from the start to the end of
            training, and the median over the 20 epochs of its move from one epoch's start to
            the next.
        The measurements that do not apply, or that a diverged run does not have, are ``None``.
    """

    experiment: str
    network: str
    optimizer: str
    batch_size: int
    drop_last: bool
    learning_rate: float
    seed: int
    dev_correct: tuple
    final_cost: float | None = None
    exact_correct: int | None = None
    batch_mode_correct: int | None = None
    variance_ratio: float | None = None
    drift_from_start: float | None = None
    drift_per_epoch: float | None = None

    @property
    def key(self) -> tuple:
        return (
            self.experiment,
            self.network,
            self.optimizer,
            self.batch_size,
            self.drop_last,
            self.learning_rate,
            self.seed,
        )


class Grid(NamedTuple):
    """Values of one measurement over learning rates and seeds: ``values[i, s]`` belongs to
    ``rates[i]`` and ``seeds[s]`` (and ``dev_correct`` adds an epoch axis)."""

    rates: tuple
    seeds: tuple
    values: np.ndarray


@dataclass(frozen=True)
class BatchnormExperiments:
    """The shipped table: every :class:`Run`, and the file's ``#`` header lines."""

    runs: tuple
    provenance: tuple

    def grid(self, measurement: str, experiment: str, **setting) -> Grid:
        """Return one measurement of the runs of ``experiment`` that match ``setting``.

        Args:
            measurement: a field of :class:`Run` that holds a result (``"dev_correct"``,
                ``"exact_correct"``, …).
            experiment: one of :data:`EXPERIMENTS`.
            **setting: the other fields to match, e.g. ``network="BN", batch_size=2``; what is
                left free must be the learning rate and the seed.

        Returns:
            :class:`Grid`; a measurement that is ``None`` is ``nan``.
        """
        results = {f.name for f in fields(Run)} - set(COLUMNS[:7])
        if measurement not in results:
            raise ValueError(f"measurement must be one of {sorted(results)}, got {measurement!r}")
        if experiment not in EXPERIMENTS:
            raise ValueError(f"experiment must be one of {EXPERIMENTS}, got {experiment!r}")
        unknown = set(setting) - {"network", "optimizer", "batch_size", "drop_last"}
        if unknown:
            raise ValueError(
                f"setting may name network, optimizer, batch_size, drop_last; got {unknown}"
            )
        chosen = [
            r
            for r in self.runs
            if r.experiment == experiment
            and all(getattr(r, name) == value for name, value in setting.items())
        ]
        rates = tuple(sorted({r.learning_rate for r in chosen}))
        seeds = tuple(sorted({r.seed for r in chosen}))
        at = {(r.learning_rate, r.seed): r for r in chosen}
        if not chosen or len(at) != len(chosen) or len(at) != len(rates) * len(seeds):
            raise ValueError(
                f"{experiment} {setting}: expected one run per learning rate and seed, "
                f"found {len(chosen)} runs"
            )

        def value(run):
            v = getattr(run, measurement)
            return np.nan if v is None else v

        values = np.array([[value(at[rate, seed]) for seed in seeds] for rate in rates], float)
        return Grid(rates, seeds, values)


def planned_runs():
    """Yield the setting of every run of the table, as the keyword arguments of
    :func:`run_experiment`, in the order :func:`build` writes them."""
    for network in NETWORKS:
        for rate in RATES:
            for seed in range(10):
                yield dict(
                    experiment="rates",
                    network=network,
                    optimizer="gd",
                    batch_size=64,
                    drop_last=False,
                    learning_rate=rate,
                    seed=seed,
                )
    for network in NETWORKS[:2]:
        for batch_size in SMALL_BATCHES:
            for rate in RATES:
                for seed in range(5):
                    yield dict(
                        experiment="batch size",
                        network=network,
                        optimizer="gd",
                        batch_size=batch_size,
                        drop_last=False,
                        learning_rate=rate,
                        seed=seed,
                    )
    for optimizer, rates in (("gd", RATES), ("adam", ADAM_RATES)):
        for drop_last in (False, True):
            for rate in rates:
                for seed in range(5):
                    yield dict(
                        experiment="last batch of 2",
                        network="BN",
                        optimizer=optimizer,
                        batch_size=REMAINDER_BATCH,
                        drop_last=drop_last,
                        learning_rate=rate,
                        seed=seed,
                    )


# ---- what is measured on a trained network ----------------------------------------------------


def layer2_inputs(params, X, noise=None):
    """Return ``(a1, z2)``: what layer 2 receives, ``a^[1]``, and what it computes from it,
    ``z^[2] = W^[2] a^[1]`` (``+ b^[2]`` in the plain network), before any normalization.

    Batch-norm layers normalize over the columns of ``X`` as one batch (training mode); ``noise``
    is passed on to :func:`helpers.batchnorm_network.forward`. Both have ``X.shape[1]`` columns.
    """
    _, caches, _ = forward(params, X, noise=noise)
    a1 = caches[1][0]
    z2 = params["W2"] @ a1
    return a1, z2 if uses_batchnorm(params) else z2 + params["b2"]


def input_drift(values, start) -> float:
    """Return how far the units' means moved from ``start`` to ``values``, in units of their
    spread at ``start``: the median over units of ``|mean - mean at start| / std at start``.

    Args:
        values, start: ``(n_units, m)``, the same units on the same examples. A unit with no
            spread at ``start`` (0 on every example) is left out.
    """
    spread = start.std(axis=1)
    alive = spread > 0
    moved = np.abs(values.mean(axis=1) - start.mean(axis=1))[alive] / spread[alive]
    return float(np.median(moved))


def _batch_mode_correct(params, X, labels, batch_size, rng) -> int:
    # the dev set cut into random batches, each normalized with its own statistics
    order = rng.permutation(labels.size)
    guesses = np.empty(labels.size, dtype=int)
    for first in range(0, labels.size, batch_size):
        batch = order[first : first + batch_size]
        guesses[batch] = predict(params, X[:, batch])
    return int(np.sum(guesses == labels))


def _drifts(result, X_dev, network, seed):
    # a^[1] on the dev set at the start of every epoch and after the last step; the noisy
    # network's input is measured with noise drawn as in training
    noise_rng = np.random.default_rng([seed, 2])
    states = [s["params"] for s in result["snapshots"]] + [result["params"]]
    inputs = []
    for params in states:
        noise = None
        if network == "noisy BN":
            noise = draw_bn_noise(HIDDEN, X_dev.shape[1], NOISE_STRENGTH, noise_rng)
        inputs.append(layer2_inputs(params, X_dev, noise)[0])
    per_epoch = [input_drift(later, earlier) for earlier, later in itertools.pairwise(inputs)]
    return input_drift(inputs[-1], inputs[0]), float(np.median(per_epoch))


def run_experiment(*, experiment, network, optimizer, batch_size, drop_last, learning_rate, seed):
    """Train one run of the table (see :func:`planned_runs`) and return its :class:`Run`."""
    from helpers.data import load_digits

    if network not in NETWORKS:
        raise ValueError(f"network must be one of {NETWORKS}, got {network!r}")
    if experiment not in EXPERIMENTS:
        raise ValueError(f"experiment must be one of {EXPERIMENTS}, got {experiment!r}")
    X, y = load_digits("train")
    X_dev, y_dev = load_digits("dev")
    noisy = network == "noisy BN"
    steps_per_epoch = -(-y.size // batch_size)
    result = train_network(
        X,
        y,
        X_dev,
        y_dev,
        hidden=HIDDEN,
        batchnorm=network != "plain",
        learning_rate=learning_rate,
        optimizer=optimizer,
        epochs=EPOCHS,
        batch_size=batch_size,
        drop_last=drop_last,
        bn_noise=NOISE_STRENGTH if noisy else 0.0,
        noise_rng=np.random.default_rng([seed, 1]) if noisy else None,
        snapshot_every=steps_per_epoch if experiment == "rates" else None,
        rng=np.random.default_rng(seed),
    )
    correct = [round(a * DEV_EXAMPLES) for a in result["dev_accuracy"]]
    diverged = len(correct) < EPOCHS or result["cost"][-1] == float("inf")
    run = {
        "experiment": experiment,
        "network": network,
        "optimizer": optimizer,
        "batch_size": batch_size,
        "drop_last": drop_last,
        "learning_rate": learning_rate,
        "seed": seed,
        "dev_correct": tuple(correct + [0] * (EPOCHS - len(correct))),
    }
    if diverged:
        return Run(**run)
    params = result["params"]
    run["final_cost"] = result["cost"][-1]
    if network != "plain":
        exact = population_statistics(params, X)
        run["exact_correct"] = int(np.sum(predict(params, X_dev, exact) == y_dev))
        run["batch_mode_correct"] = _batch_mode_correct(
            params, X_dev, y_dev, batch_size, np.random.default_rng([seed, 3])
        )
        run["variance_ratio"] = float(np.median(result["running"][0][1] / exact[0][1]))
    if experiment == "rates":
        run["drift_from_start"], run["drift_per_epoch"] = _drifts(result, X_dev, network, seed)
    return Run(**run)


# ---- the file -----------------------------------------------------------------------------------


def _format_row(run: Run) -> str:
    def number(value, digits=4):
        return "" if value is None else f"{value:.{digits}f}"

    return ",".join(
        [
            run.experiment,
            run.network,
            run.optimizer,
            str(run.batch_size),
            str(int(run.drop_last)),
            f"{run.learning_rate:g}",
            str(run.seed),
            " ".join(str(c) for c in run.dev_correct),
            number(run.final_cost, 5),
            "" if run.exact_correct is None else str(run.exact_correct),
            "" if run.batch_mode_correct is None else str(run.batch_mode_correct),
            number(run.variance_ratio),
            number(run.drift_from_start),
            number(run.drift_per_epoch),
        ]
    )


def _parse_row(row: list, source) -> Run:
    if len(row) != len(COLUMNS):
        raise ValueError(f"{source}: a row has {len(row)} fields, expected {len(COLUMNS)}")

    def optional(text, kind):
        return None if text == "" else kind(text)

    try:
        dev_correct = tuple(int(c) for c in row[7].split())
        run = Run(
            row[0],
            row[1],
            row[2],
            int(row[3]),
            bool(int(row[4])),
            float(row[5]),
            int(row[6]),
            dev_correct,
            optional(row[8], float),
            optional(row[9], int),
            optional(row[10], int),
            optional(row[11], float),
            optional(row[12], float),
            optional(row[13], float),
        )
    except ValueError as error:
        raise ValueError(f"{source}: unreadable row {row!r} ({error})") from None
    if len(dev_correct) != EPOCHS or not all(0 <= c <= DEV_EXAMPLES for c in dev_correct):
        raise ValueError(f"{source}: row {row!r} needs {EPOCHS} counts in [0, {DEV_EXAMPLES}]")
    return run


def _worker_environment():
    # one BLAS thread per worker: small matrices gain nothing from more, and the workers share
    # the cores; set before a worker imports NumPy (spawned workers start afresh)
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = "1"


def _run_planned(setting: dict) -> str:
    return _format_row(run_experiment(**setting))


def build(path, *, jobs=1, log=sys.stdout) -> str:
    """Train every planned run, write the table to ``path``; return its SHA-256.

    ``jobs`` worker processes, each with one BLAS thread. The gzip stream carries no time stamp,
    so the same results always give the same bytes after the header.
    """
    settings = list(planned_runs())
    _worker_environment()
    start, rows = time.perf_counter(), []
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
        for n, row in enumerate(pool.map(_run_planned, settings, chunksize=4), start=1):
            rows.append(row)
            if n % 50 == 0 or n == len(settings):
                print(f"{n}/{len(settings)} runs, {time.perf_counter() - start:.0f} s", file=log)
    seconds = time.perf_counter() - start
    header = [
        "# Lesson 03's experiments: helpers.batchnorm_network.train_network on the digits,",
        "# dev accuracy (correct of 357) per epoch and measurements after training.",
        "# built by: python -m helpers.batchnorm_experiments build",
        f"# date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC",
        f"# seconds: {seconds:.0f} ({len(rows)} trainings in {jobs} processes, 1 thread each)",
        f"# machine: {platform.machine()} {cpu_name()}",
        f"# python {platform.python_version()}, numpy {np.__version__}",
    ]
    return write_table(path, header, COLUMNS, rows)


def load_batchnorm_experiments(path=None) -> BatchnormExperiments:
    """Return the shipped table (or the one at ``path``), checksum verified.

    Raises:
        FileNotFoundError: the file is missing.
        ValueError: its checksum is wrong (only for the shipped file), a row is unreadable, or
            the rows are not exactly the runs of :func:`planned_runs`.
    """
    if path is None:
        source, expected_sha = DATA_DIR / TABLE_FILE, TABLE_SHA256
    else:
        source, expected_sha = Path(path), None
    provenance, body = read_table(
        source, expected_sha, name="batch-norm experiments table", columns=COLUMNS, restore=_RESTORE
    )
    runs = tuple(_parse_row(row, source) for row in csv.reader(io.StringIO("\n".join(body))))
    planned = [Run(**s, dev_correct=()).key for s in planned_runs()]
    if sorted(r.key for r in runs) != sorted(planned):
        raise ValueError(f"{source}: expected each of the {len(planned)} planned runs exactly once")
    return BatchnormExperiments(runs, provenance)


def main(argv=None) -> int:
    return build_command(
        argv,
        module="helpers.batchnorm_experiments",
        what="lesson 03's table of experiments (every planned training run)",
        table_file=TABLE_FILE,
        build=build,
        jobs=True,
    )


if __name__ == "__main__":
    sys.exit(main())
