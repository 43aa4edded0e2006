"""Tuning lesson 07's digits network (notebook 08): the search space, the objective, Optuna.

The search space is :data:`SEARCH_SPACE`, four :class:`Hyperparameter` s, each on its own scale.
Two ways to sample it share that one definition:

- the week's own searches (:mod:`helpers.search`) draw points uniformly in the unit cube
  ``[0, 1]^4`` and :func:`from_unit` puts each coordinate on its hyperparameter's scale;
- Optuna calls :func:`suggest_hyperparameters` with a trial, which asks for each value on the
  same scale (``log=True`` where the scale is logarithmic).

Either way the result is a dict ``{"learning_rate", "beta1", "hidden_units", "batch_size"}``
that :func:`train_and_evaluate` turns into a dev-set accuracy.

Run as a module, this file is a tuning *worker*: it joins an Optuna study kept in a database and
runs trials until its share is done. Several workers, on one machine or many, can share a study::

    optuna create-study --storage sqlite:///build/digits.db --study-name digits \\
        --direction maximize
    python -m helpers.tuning --storage sqlite:///build/digits.db --study-name digits \\
        --n-trials 10 --seed 1
"""

import argparse
import functools
import json
import math
import numbers
import os
import socket
import sys
from dataclasses import dataclass

SCALES = ("log", "one_minus_log", "int", "log_int", "power_of_two")


@dataclass(frozen=True)
class Hyperparameter:
    """One dimension of the search space and the scale it is sampled on.

    Scales:
        ``"log"``: log10 of the value is uniform (learning rate: each decade equally likely).
        ``"one_minus_log"``: log10 of ``1 − value`` is uniform (an averaging β near 1).
        ``"int"``: every integer in ``[low, high]`` equally likely.
        ``"log_int"``: integers with log10 of the value uniform (hidden units: 16 to 32 as
        likely as 128 to 256).
        ``"power_of_two"``: every power of two in ``[low, high]`` equally likely (batch size).
    """

    name: str
    low: float
    high: float
    scale: str

    def __post_init__(self):
        if self.scale not in SCALES:
            raise ValueError(f"scale must be one of {SCALES}, got {self.scale!r}")
        if not (isinstance(self.low, numbers.Real) and isinstance(self.high, numbers.Real)):
            raise TypeError(f"low and high must be numbers, got {self.low!r} and {self.high!r}")
        if not self.low < self.high:
            raise ValueError(f"{self.name}: need low < high, got {self.low} and {self.high}")
        if self.scale in ("log", "log_int") and self.low <= 0:
            raise ValueError(f"{self.name}: a log scale needs low > 0, got {self.low}")
        if self.scale == "one_minus_log" and not 0 < self.low < self.high < 1:
            raise ValueError(f"{self.name}: need 0 < low < high < 1, got {self.low}, {self.high}")
        bounds = (self.low, self.high)
        if self.scale in ("int", "log_int") and not all(float(v).is_integer() for v in bounds):
            raise ValueError(f"{self.name}: integer bounds needed, got {bounds}")
        if self.scale == "power_of_two" and not all(
            v >= 1 and math.log2(v).is_integer() for v in bounds
        ):
            raise ValueError(f"{self.name}: bounds must be powers of two, got {bounds}")

    def from_unit(self, u: float):
        """Return the value at position ``u`` in ``[0, 1]`` along this hyperparameter's scale."""
        if isinstance(u, bool) or not isinstance(u, numbers.Real) or not 0 <= u <= 1:
            raise ValueError(f"{self.name}: unit coordinate must be in [0, 1], got {u!r}")
        if self.scale == "log":
            lo, hi = math.log10(self.low), math.log10(self.high)
            return 10 ** (lo + u * (hi - lo))
        if self.scale == "one_minus_log":
            # u = 0 gives β = low, u = 1 gives β = high; log10(1 − β) moves evenly in between.
            lo, hi = math.log10(1 - self.low), math.log10(1 - self.high)
            return 1 - 10 ** (lo + u * (hi - lo))
        if self.scale == "int":
            lo, hi = int(self.low), int(self.high)
            return min(lo + math.floor(u * (hi - lo + 1)), hi)  # equal-width cell per integer
        if self.scale == "log_int":
            # as Optuna samples suggest_int(..., log=True): log-uniform on [low − ½, high + ½],
            # rounded to the nearest integer
            lo, hi = math.log(self.low - 0.5), math.log(self.high + 0.5)
            value = math.floor(math.exp(lo + u * (hi - lo)) + 0.5)
            return int(min(max(value, self.low), self.high))
        lo, hi = int(math.log2(self.low)), int(math.log2(self.high))
        return 2 ** min(lo + math.floor(u * (hi - lo + 1)), hi)

    def suggest(self, trial):
        """Ask an Optuna ``trial`` for a value on this scale; the trial samples what is uniform.

        The trial's parameter is the sampled quantity: ``name`` itself, ``one_minus_<name>``
        or ``log2_<name>``.
        """
        if self.scale == "log":
            return trial.suggest_float(self.name, self.low, self.high, log=True)
        if self.scale == "one_minus_log":
            # rounded so that 1 − 0.999 is asked as 0.001, not 0.0010000000000000009
            low, high = round(1 - self.high, 12), round(1 - self.low, 12)
            return 1 - trial.suggest_float(f"one_minus_{self.name}", low, high, log=True)
        if self.scale in ("int", "log_int"):
            log = self.scale == "log_int"
            return trial.suggest_int(self.name, int(self.low), int(self.high), log=log)
        low, high = int(math.log2(self.low)), int(math.log2(self.high))
        return 2 ** trial.suggest_int(f"log2_{self.name}", low, high)


# Bounds of 07's network: Adam's learning rate over three decades, β1 from 0.9 (an average of
# about 10 gradients) to 0.999 (about 1,000), and 16 to 256 units in each of the two layers, on
# a log scale: the range spans more than a decade, and the tuning table (helpers.tuning_table)
# shows 16 -> 32 units changing the dev accuracy far more than 128 -> 256.
SEARCH_SPACE = (
    Hyperparameter("learning_rate", 1e-4, 1e-1, "log"),
    Hyperparameter("beta1", 0.9, 0.999, "one_minus_log"),
    Hyperparameter("hidden_units", 16, 256, "log_int"),
    Hyperparameter("batch_size", 16, 128, "power_of_two"),
)
HYPERPARAMETER_NAMES = tuple(h.name for h in SEARCH_SPACE)


def unit_ranges(margin: float = 0.0) -> dict:
    """Return ``{name: (margin, 1 − margin)}``: the unit cube for :mod:`helpers.search`.

    A grid over ``unit_ranges(1 / (2 n))`` with ``n`` points per axis puts each point at the
    centre of one of ``n`` equal cells, instead of on the edges of the space.
    """
    if not isinstance(margin, numbers.Real) or not 0 <= margin < 0.5:
        raise ValueError(f"margin must be in [0, 0.5), got {margin!r}")
    return {name: (float(margin), 1.0 - margin) for name in HYPERPARAMETER_NAMES}


def from_unit(point: dict) -> dict:
    """Map a point of the unit cube ``{name: u}`` to hyperparameters on their scales."""
    if not isinstance(point, dict):
        raise TypeError(f"point must be a dict of name -> value in [0, 1], got {point!r}")
    missing = [name for name in HYPERPARAMETER_NAMES if name not in point]
    if missing:
        raise ValueError(f"point has no value for {missing}")
    return {h.name: h.from_unit(point[h.name]) for h in SEARCH_SPACE}


def suggest_hyperparameters(trial) -> dict:
    """Ask an Optuna ``trial`` for one configuration of :data:`SEARCH_SPACE`.

    The trial's own parameter names are the sampled quantities (``one_minus_beta1``,
    ``log2_batch_size``); the returned dict holds the hyperparameters themselves.
    """
    return {h.name: h.suggest(trial) for h in SEARCH_SPACE}


def _check_hyperparameters(hparams) -> dict:
    if not isinstance(hparams, dict):
        raise TypeError(f"hparams must be a dict, got {type(hparams).__name__}")
    missing = [name for name in HYPERPARAMETER_NAMES if name not in hparams]
    if missing:
        raise ValueError(f"hparams has no value for {missing}")
    learning_rate, beta1 = hparams["learning_rate"], hparams["beta1"]
    units, batch_size = hparams["hidden_units"], hparams["batch_size"]
    if not isinstance(learning_rate, numbers.Real) or not learning_rate > 0:
        raise ValueError(f"learning_rate must be > 0, got {learning_rate!r}")
    if not isinstance(beta1, numbers.Real) or not 0 <= beta1 < 1:
        raise ValueError(f"beta1 must be in [0, 1), got {beta1!r}")
    for name, value in (("hidden_units", units), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return {
        "learning_rate": float(learning_rate),
        "beta1": float(beta1),
        "hidden_units": int(units),
        "batch_size": int(batch_size),
    }


@functools.cache
def _tuning_data(split: str = "dev"):
    """Train and ``split`` as Keras wants them (rows, float32, one-hot train labels)."""
    import tensorflow as tf

    from helpers.data import load_digits

    x_train, y_train = load_digits("train", layout="rows")
    x_eval, y_eval = load_digits(split, layout="rows")
    return (
        x_train.astype("float32"),
        tf.one_hot(y_train, 10),
        tf.constant(x_eval, tf.float32),
        y_eval,
    )


def train_and_evaluate(
    hparams: dict, *, epochs: int = 5, seed: int = 0, report=None, split: str = "dev"
) -> float:
    """Train 07's batch-norm network with ``hparams`` on ``train``; return its dev accuracy.

    The network is ``helpers.tf_digits.build_model((units, units))``, trained with Adam
    (``learning_rate``, ``beta_1 = beta1``) on mini-batches of ``batch_size`` from the 1,085
    training images, every trial from the same initial seed so trials differ only in their
    hyperparameters.

    Args:
        hparams: ``{"learning_rate", "beta1", "hidden_units", "batch_size"}``.
        epochs: passes over the training set (>= 1).
        seed: seeds the initial weights and the shuffling.
        report: optional ``report(epoch, dev_accuracy)`` called after every epoch (epochs
            count from 1); Optuna's pruning hooks in here and may raise to stop the trial.
        split: ``"dev"`` (357 images) while tuning; ``"test"`` (355) once, for the
            configuration finally chosen.

    Returns:
        Accuracy on ``split`` after the last epoch, in ``[0, 1]``.
    """
    hp = _check_hyperparameters(hparams)
    if isinstance(epochs, bool) or not isinstance(epochs, numbers.Integral) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
    if report is not None and not callable(report):
        raise TypeError(f"report must be callable(epoch, accuracy) or None, got {report!r}")
    if split not in ("dev", "test"):
        raise ValueError(f"split must be 'dev' or 'test', got {split!r}")

    import keras
    import numpy as np
    import tensorflow as tf

    from helpers.tf_digits import build_model, make_pipeline, train_step

    x_train, y_train, x_dev, y_dev = _tuning_data(split)
    keras.utils.set_random_seed(seed)
    model = build_model((hp["hidden_units"], hp["hidden_units"]))
    optimizer = keras.optimizers.Adam(hp["learning_rate"], beta_1=hp["beta1"])
    # Creating Adam's slots now and fixing the input signature lets tf.function trace the step
    # once per trial (not three times); tracing is most of a short trial's cost. The step has
    # no tensor-dependent Python control flow, so AutoGraph's conversion is skipped (~15 %).
    optimizer.build(model.trainable_variables)
    step = tf.function(
        functools.partial(train_step, model, optimizer),
        autograph=False,
        input_signature=[
            tf.TensorSpec([None, x_train.shape[1]], tf.float32),
            tf.TensorSpec([None, 10], tf.float32),
        ],
    )
    dataset, steps_per_epoch = make_pipeline(
        x_train, y_train, batch_size=hp["batch_size"], seed=seed
    )
    batches = iter(dataset)
    accuracy = 0.0
    for epoch in range(1, int(epochs) + 1):
        for _ in range(steps_per_epoch):
            step(*next(batches))
        predictions = np.argmax(model(x_dev, training=False).numpy(), axis=1)
        accuracy = float(np.mean(predictions == y_dev))
        if report is not None:
            report(epoch, accuracy)
    return accuracy


def optuna_objective(*, epochs: int = 5, seed: int = 0):
    """Return ``objective(trial) -> dev accuracy`` for ``study.optimize``.

    The objective reports the dev accuracy after every epoch and stops the trial early when the
    study's pruner says so (a median pruner stops a trial that falls behind earlier ones).
    """
    import optuna

    def objective(trial):
        hparams = suggest_hyperparameters(trial)

        def report(epoch, accuracy):
            trial.report(accuracy, epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()

        return train_and_evaluate(hparams, epochs=epochs, seed=seed, report=report)

    return objective


def make_sampler(name: str, seed: int):
    """Return Optuna's ``RandomSampler`` (``"random"``) or default TPE sampler (``"tpe"``)."""
    import optuna

    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    raise ValueError(f"sampler must be 'random' or 'tpe', got {name!r}")


def run_worker(
    storage: str,
    study_name: str,
    n_trials: int,
    *,
    sampler: str = "random",
    seed: int = 0,
    epochs: int = 5,
) -> list:
    """Join the study ``study_name`` in ``storage`` and run ``n_trials`` trials of it.

    Each trial records which worker ran it (``user_attrs["worker"]``, host and process id).

    Returns:
        The numbers of the trials this worker ran, in order.
    """
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(
        study_name=study_name,
        storage=storage,
        sampler=make_sampler(sampler, seed),
        pruner=optuna.pruners.NopPruner(),
    )
    worker = f"{socket.gethostname()}:{os.getpid()}"
    objective = optuna_objective(epochs=epochs)
    numbers_run = []

    def tagged(trial):
        trial.set_user_attr("worker", worker)
        numbers_run.append(trial.number)
        return objective(trial)

    study.optimize(tagged, n_trials=n_trials)
    return numbers_run


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m helpers.tuning",
        description="Run trials of a shared Optuna study of lesson 07's digits network.",
    )
    parser.add_argument("--storage", required=True, help="database URL, e.g. sqlite:///x.db")
    parser.add_argument("--study-name", required=True)
    parser.add_argument("--n-trials", type=int, required=True, help="trials for this worker")
    parser.add_argument("--sampler", choices=("random", "tpe"), default="random")
    parser.add_argument("--seed", type=int, default=0, help="seed of this worker's sampler")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument(
        "--threads", type=int, default=0, help="TensorFlow CPU threads (0: TensorFlow decides)"
    )
    args = parser.parse_args(argv)
    if args.n_trials < 1 or args.epochs < 1 or args.threads < 0:
        parser.error("--n-trials and --epochs must be >= 1, --threads >= 0")

    from helpers import seed_tensorflow

    seed_tensorflow(0)
    if args.threads:
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    numbers_run = run_worker(
        args.storage,
        args.study_name,
        args.n_trials,
        sampler=args.sampler,
        seed=args.seed,
        epochs=args.epochs,
    )
    # One JSON line a launcher can parse: which trials this process ran.
    print(json.dumps({"pid": os.getpid(), "trials": numbers_run}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
