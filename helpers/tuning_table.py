"""A tabular benchmark of notebook 08's search space: dev accuracy measured once on a grid.

Comparing search strategies takes many runs of each, and every run of a strategy is many
trainings. The table in ``data/tuning_table.csv.gz`` holds the dev accuracy of
:func:`helpers.tuning.train_and_evaluate` (5 epochs) at every point of a grid of the search
space, for several training seeds. A strategy replayed on it *looks up* a trial instead of
training it, so hundreds of replays take seconds.

The grid, :data:`AXES`, spaces each hyperparameter evenly on its own scale and includes both
ends of every range:

======================  ================================================  ======
hyperparameter          values                                            count
======================  ================================================  ======
``learning_rate``       :math:`10^{-4}, 10^{-3.5}, \\dots, 10^{-1}`            7
``beta1``               0.9, 0.99, 0.999                                       3
``hidden_units``        16, 32, 64, 128, 256                                   5
``batch_size``          16, 32, 64, 128                                        4
======================  ================================================  ======

420 configurations, each trained with seeds 0, 1 and 2 (:data:`SEEDS`). The file is built by::

    python -m helpers.tuning_table build

(about 10 minutes on one core; the file's header records how long it took, on what, and with
which versions) and read by :func:`load_tuning_table`, which checks its SHA-256.
"""

import io
import itertools
import sys
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import NamedTuple

import numpy as np

from helpers.shipped_tables import build_command, provenance, read_table, write_table

AXES = {
    "learning_rate": tuple(10 ** (-4 + k / 2) for k in range(7)),
    "beta1": (0.9, 0.99, 0.999),
    "hidden_units": (16, 32, 64, 128, 256),
    "batch_size": (16, 32, 64, 128),
}
SEEDS = (0, 1, 2)
EPOCHS = 5
DEV_EXAMPLES = 357
# from the package, never the current directory: data/ is installed as helpers.shipped_data
DATA_DIR = resources.files("helpers.shipped_data")
TABLE_FILE = "tuning_table.csv.gz"
TABLE_SHA256 = "0eaf460a49991a6e36f94d90d988140e693b6dd4232d62e02921c276a50b3fb6"
COLUMNS = ("learning_rate", "beta1", "hidden_units", "batch_size", "seed", "dev_correct")
_RESTORE = (
    f"restore it with `git checkout -- data/{TABLE_FILE}` in a checkout of the repository, "
    "or reinstall dnn-week3-helpers; `python -m helpers.tuning_table build` rebuilds it."
)


@dataclass(frozen=True)
class TuningTable:
    """The benchmark: ``accuracy[i, j, k, l, s]`` is the dev accuracy of configuration
    ``(AXES["learning_rate"][i], AXES["beta1"][j], AXES["hidden_units"][k],
    AXES["batch_size"][l])`` trained with seed ``SEEDS[s]``.

    Attributes:
        axes: :data:`AXES`, the values along the first four dimensions.
        seeds: :data:`SEEDS`, along the last dimension.
        accuracy: float array of shape ``(7, 3, 5, 4, 3)``, values in ``[0, 1]``.
        provenance: the ``#`` header lines of the file (how, when, on what it was built).
    """

    axes: dict
    seeds: tuple
    accuracy: np.ndarray
    provenance: tuple

    def hyperparameters(self, index) -> dict:
        """Return the configuration at grid position ``index = (i, j, k, l)`` as a dict."""
        if len(index) != len(self.axes):
            raise ValueError(f"index must have {len(self.axes)} entries, got {index!r}")
        return {name: values[i] for (name, values), i in zip(self.axes.items(), index, strict=True)}


def grid_points():
    """Yield ``(index, hyperparameters)`` for every point of the grid, last axis fastest."""
    names = list(AXES)
    for index in itertools.product(*(range(len(v)) for v in AXES.values())):
        yield index, {name: AXES[name][i] for name, i in zip(names, index, strict=True)}


def _format_row(hparams: dict, seed: int, correct: int) -> str:
    return (
        f"{hparams['learning_rate']:.6g},{hparams['beta1']:.6g},{hparams['hidden_units']},"
        f"{hparams['batch_size']},{seed},{correct}"
    )


def build(path, *, seeds=SEEDS, log=sys.stdout) -> str:
    """Train every grid point with every seed, write the table to ``path``; return its SHA-256.

    TensorFlow is limited to one thread (what one core of a shared machine gives), and the gzip
    stream carries no time stamp, so the same results always give the same bytes.
    """
    from helpers import seed_tensorflow

    seed_tensorflow(0)
    import tensorflow as tf

    from helpers.tuning import train_and_evaluate

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    points = list(grid_points())
    rows, start = [], time.perf_counter()
    for n, (_, hparams) in enumerate(points, start=1):
        for seed in seeds:
            accuracy = train_and_evaluate(hparams, epochs=EPOCHS, seed=seed)
            rows.append(_format_row(hparams, seed, round(accuracy * DEV_EXAMPLES)))
        if n % 20 == 0 or n == len(points):
            print(
                f"{n}/{len(points)} configurations, {time.perf_counter() - start:.0f} s", file=log
            )
    seconds = time.perf_counter() - start
    header = [
        "# Tabular benchmark of notebook 08: dev accuracy (correct of 357) of",
        f"# helpers.tuning.train_and_evaluate, {EPOCHS} epochs, on every grid point x seed.",
        *provenance("python -m helpers.tuning_table build", seconds, len(rows)),
    ]
    return write_table(path, header, COLUMNS, rows)


def load_tuning_table(path=None) -> TuningTable:
    """Return the shipped :class:`TuningTable` (or the one at ``path``), checksum verified.

    Raises:
        FileNotFoundError: the file is missing.
        ValueError: its checksum is wrong (only for the shipped file), or its rows do not
            cover the grid exactly once per seed.
    """
    if path is None:
        source = DATA_DIR / TABLE_FILE
        expected_sha = TABLE_SHA256
    else:
        source, expected_sha = Path(path), None
    provenance, body = read_table(
        source, expected_sha, name="tuning table", columns=COLUMNS, restore=_RESTORE
    )
    data = np.loadtxt(io.StringIO("\n".join(body)), delimiter=",", ndmin=2)
    shape = (*(len(v) for v in AXES.values()), len(SEEDS))
    correct = np.full(shape, -1)
    axes = [np.log(values) for values in AXES.values()]
    seed_at = {s: i for i, s in enumerate(SEEDS)}
    for row in data:
        # values are written with 6 significant digits: match each to its axis by ratio
        offsets = [np.abs(axis - np.log(v)) for axis, v in zip(axes, row[:4], strict=True)]
        if max(d.min() for d in offsets) > 1e-5 or int(row[4]) not in seed_at:
            raise ValueError(f"{source}: row {row.tolist()} is not a grid point")
        index = (*(int(d.argmin()) for d in offsets), seed_at[int(row[4])])
        correct[index] = int(row[5])
    if (correct < 0).any() or len(data) != correct.size:
        raise ValueError(f"{source}: expected each of the {correct.size} entries exactly once")
    return TuningTable(dict(AXES), SEEDS, correct / DEV_EXAMPLES, provenance)


# ---- replaying a search strategy on the table -------------------------------------------------

STRATEGIES = ("grid", "random", "coarse to fine", "TPE")


def _grid(table, n_trials, rng, observe):
    # 2 distinct values per axis: one from the lower half of the axis, one from the upper half
    # (the middle value of an odd axis belongs to both), so the grid is spread out but where
    # exactly it sits differs from replay to replay, as it would from person to person
    if n_trials > 2 ** len(table.axes):
        raise ValueError(f"a 2-per-axis grid has {2 ** len(table.axes)} points, not {n_trials}")
    pairs = []
    for values in table.axes.values():
        half = (len(values) + 1) // 2
        spread = [(a, b) for a in range(half) for b in range(len(values) - half, len(values))]
        spread = [(a, b) for a, b in spread if a < b]  # two distinct values
        pairs.append(spread[rng.integers(len(spread))])
    points = list(itertools.product(*pairs))
    order = rng.permutation(len(points))[:n_trials]
    return [observe(points[i]) for i in order]


def _all_indices(table):
    return list(itertools.product(*(range(len(v)) for v in table.axes.values())))


def _random(table, n_trials, rng, observe):
    # random search on the table: distinct grid points in random order
    everything = _all_indices(table)
    return [observe(everything[i]) for i in rng.permutation(len(everything))[:n_trials]]


def _coarse_to_fine(table, n_trials, rng, observe):
    # 11 of every 16 trials at random, the rest inside a box half as wide around the best so
    # far: on each axis the half of its values centred on the best one (shifted to fit)
    everything = _all_indices(table)
    order = rng.permutation(len(everything))
    first = n_trials * 11 // 16
    tried = [everything[i] for i in order[:first]]
    results = [observe(index) for index in tried]
    best = tried[int(np.argmax(results))]
    windows = []
    for i, values in zip(best, table.axes.values(), strict=True):
        width = (len(values) + 1) // 2
        low = min(max(i - width // 2, 0), len(values) - width)
        windows.append(range(low, low + width))
    inside = [idx for idx in itertools.product(*windows) if idx not in tried]
    for j in rng.permutation(len(inside))[: n_trials - first]:
        results.append(observe(inside[j]))
    return results


def _tpe(table, n_trials, rng, observe):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.TPESampler(seed=int(rng.integers(2**31)))
    study = optuna.create_study(direction="maximize", sampler=sampler)
    names = list(table.axes)

    def objective(trial):
        # the grid position on each axis: ordered, and evenly spaced on the axis's own scale
        return observe(tuple(trial.suggest_int(n, 0, len(table.axes[n]) - 1) for n in names))

    study.optimize(objective, n_trials=n_trials)
    return [t.value for t in study.trials]


class Replays(NamedTuple):
    """Replays of one strategy, two ways to score each after every trial.

    ``best_seen[r, n]`` is the best single-seed dev accuracy replay ``r`` has *seen* after
    ``n + 1`` trials; ``chosen[r, n]`` is what the configuration it would *choose* then (the one
    with the best seen score; of equal scores, the first seen) scores on the table's seeds the
    replay has *not* looked up for it: a re-evaluation with fresh trainings. (A configuration
    whose every seed was looked up, which only a strategy that revisits points can do, is scored
    by the mean of all of them.) ``best_seen`` rewards a lucky seed, ``chosen`` measures what the
    search found: the gap between them is the winner's curse. Both are arrays of shape
    ``(n_replays, n_trials)``.
    """

    best_seen: np.ndarray
    chosen: np.ndarray


def replay_choices(
    strategy: str, table: TuningTable, n_trials: int, n_replays: int, seed: int = 0
) -> Replays:
    """Replay ``strategy`` ``n_replays`` times on ``table``; score each by what it saw and chose.

    Each trial of a replay looks up one grid point and one of its training seeds, drawn at
    random, so a replay sees the noise a real search would see.

    Args:
        strategy: one of :data:`STRATEGIES`: ``"grid"`` (2 values per axis, at most 16
            trials), ``"random"``, ``"coarse to fine"`` (11/16 of the trials at random, then
            a box of half the width around the best) or ``"TPE"`` (Optuna's ``TPESampler``
            choosing a grid position on each axis).
        table: a :class:`TuningTable`.
        n_trials: trials per replay (>= 1).
        n_replays: independent replays (>= 1).
        seed: seeds the ``numpy.random.Generator`` every replay draws from.

    Returns:
        :class:`Replays`, each array of shape ``(n_replays, n_trials)``.
    """
    run = {"grid": _grid, "random": _random, "coarse to fine": _coarse_to_fine, "TPE": _tpe}
    if strategy not in run:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
    if not isinstance(table, TuningTable):
        raise TypeError(f"table must be a TuningTable, got {type(table).__name__}")
    for name, value in (("n_trials", n_trials), ("n_replays", n_replays)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    rng = np.random.default_rng(seed)
    n_seeds = table.accuracy.shape[-1]
    seen, chosen = [], []
    for _ in range(n_replays):
        tried = []  # (configuration, seed) of each trial

        def observe(index, tried=tried):
            tried.append((tuple(index), int(rng.integers(n_seeds))))
            return float(table.accuracy[(*index, tried[-1][1])])

        scores = np.array(run[strategy](table, n_trials, rng, observe))
        seen.append(np.maximum.accumulate(scores))
        chosen.append(
            [fresh_seed_score(table, tried[: n + 1], scores[: n + 1]) for n in range(n_trials)]
        )
    return Replays(best_seen=np.array(seen), chosen=np.array(chosen))


def fresh_seed_score(table: TuningTable, tried: list, scores: np.ndarray) -> float:
    """The configuration a search keeps after ``tried`` (its trials' ``(configuration, seed)``,
    in order, with their dev accuracies ``scores``), scored on the seeds it did not look up for
    that configuration: the best seen is lucky by selection, so its own run must not count again.
    """
    # the first trial to reach the best score is the one a person would keep
    kept = tried[int(np.argmax(scores))][0]
    looked_up = {s for index, s in tried if index == kept}
    runs = table.accuracy[kept]
    fresh = [runs[s] for s in range(runs.size) if s not in looked_up]
    return float(np.mean(fresh if fresh else runs))


def replay(strategy: str, table: TuningTable, n_trials: int, n_replays: int, seed: int = 0):
    """Return the best-so-far dev accuracy of ``n_replays`` replays of ``strategy`` on ``table``:
    :func:`replay_choices`'s ``best_seen``, an array of shape ``(n_replays, n_trials)`` whose entry
    ``[r, n]`` is the best dev accuracy replay ``r`` has seen after ``n + 1`` trials."""
    return replay_choices(strategy, table, n_trials, n_replays, seed).best_seen


def main(argv=None) -> int:
    return build_command(
        argv,
        module="helpers.tuning_table",
        what="notebook 08's tabular benchmark (every grid point, every seed)",
        table_file=TABLE_FILE,
        build=build,
    )


if __name__ == "__main__":
    sys.exit(main())
