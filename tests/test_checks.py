"""The checks against a catalogue of plausible wrong answers, and correct ones written otherwise.

Each wrong implementation carries its row right above it (``@wrong(exercise, case,
diagnosis)``): the check must reject it on that case with that diagnosis on its hint line, and
the diagnoses of one exercise's wrong answers must differ from one another (a learner is told
*their* mistake, not a general recipe). Each ``@right`` function is correct but written
differently from the reference: the check and the hidden cases must pass it.
"""

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

from helpers import batchnorm, checks, sampling, search, softmax, tf_digits, tf_quadratic
from helpers.checks import hints, stand_ins


@dataclass(frozen=True)
class Wrong:
    """A plausible wrong implementation of ``exercise``, the case that must reject it (a part of
    its name) and its diagnosis (a part of the message's hint line)."""

    exercise: str
    function: Callable
    case: str
    diagnosis: str


@dataclass(frozen=True)
class Right:
    """A correct implementation of ``exercise`` written differently from the course's."""

    exercise: str
    function: Callable


WRONG: list[Wrong] = []
RIGHT: list[Right] = []


def wrong(exercise: str, case: str, diagnosis: str):
    """Register the function below as a wrong answer to ``exercise`` (its row in WRONG)."""

    def register(function):
        WRONG.append(Wrong(exercise, function, case, diagnosis))
        return function

    return register


def right(exercise: str):
    """Register the function below as a correct answer to ``exercise``, written otherwise."""

    def register(function):
        RIGHT.append(Right(exercise, function))
        return function

    return register


@pytest.fixture(autouse=True)
def _fresh_hints():
    """Each test starts as in a fresh kernel: no ladder climbed, no solution shown."""
    hints.reset()
    yield
    hints.reset()


# ---- 01: grid and random search, zoom_in -----------------------------------------------


@wrong("grid_search", "2 hyperparameters", "both ends included")
def grid_without_endpoint(objective, ranges, n_per_axis):
    axes = [np.linspace(lo, hi, n_per_axis, endpoint=False) for lo, hi in ranges.values()]
    points = [dict(zip(ranges, v, strict=True)) for v in itertools.product(*axes)]
    return [(p, objective(dict(p))) for p in points]


@wrong("grid_search", "2 hyperparameters", "every trial holds the same dict")
def grid_shared_dict(objective, ranges, n_per_axis):
    params, trials = {}, []
    for values in itertools.product(*[np.linspace(*r, n_per_axis) for r in ranges.values()]):
        params.update(zip(ranges, values, strict=True))
        trials.append((params, objective(params)))
    return trials


@wrong("grid_search", "2 hyperparameters", "every combination")
def grid_first_axis_only(objective, ranges, n_per_axis):
    name, (lo, hi) = next(iter(ranges.items()))
    trials = []
    for v in np.linspace(lo, hi, n_per_axis):
        params = {k: (v if k == name else (a + b) / 2) for k, (a, b) in ranges.items()}
        trials.append((params, objective(params)))
    return trials


@wrong("grid_search", "2 hyperparameters", "not only the best")
def grid_best_only(objective, ranges, n_per_axis):
    return min(search.grid_search(objective, ranges, n_per_axis), key=lambda t: t[1])


@wrong("grid_search", "2 hyperparameters", "not in the order the objective saw them")
def grid_sorted_by_score(objective, ranges, n_per_axis):
    return sorted(search.grid_search(objective, ranges, n_per_axis), key=lambda t: t[1])


@right("grid_search")
def grid_recursive(objective, ranges, n_per_axis):
    names = list(ranges)

    def points(i):
        if i == len(names):
            yield {}
            return
        for v in np.linspace(*ranges[names[i]], n_per_axis):
            for rest in points(i + 1):
                yield {names[i]: v, **rest}

    return [(p, objective(p)) for p in points(0)]


@wrong("random_search", "the given generator", "global random functions")
def random_global_state(objective, ranges, n_trials, rng):
    np.random.seed(7)  # noqa: NPY002 - seeded so the statistical cases are not left to luck
    trials = []
    for _ in range(n_trials):
        params = {k: np.random.uniform(lo, hi) for k, (lo, hi) in ranges.items()}  # noqa: NPY002
        trials.append((params, objective(params)))
    return trials


@wrong("random_search", "2,000 trials cover each range evenly", "stretched to the range")
def random_unscaled(objective, ranges, n_trials, rng):
    trials = []
    for _ in range(n_trials):
        params = {k: lo + rng.random() for k, (lo, hi) in ranges.items()}
        trials.append((params, objective(params)))
    return trials


@wrong("random_search", "25 trials", "not in the order the objective saw them")
def random_sorted_by_score(objective, ranges, n_trials, rng):
    return sorted(search.random_search(objective, ranges, n_trials, rng), key=lambda t: t[1])


@wrong("random_search", "2,000 trials cover each range evenly", "bunch in the middle")
def random_normal(objective, ranges, n_trials, rng):
    trials = []
    for _ in range(n_trials):
        params = {
            k: float(rng.normal((lo + hi) / 2, (hi - lo) / 8)) for k, (lo, hi) in ranges.items()
        }
        trials.append((params, objective(params)))
    return trials


@wrong("random_search", "25 trials", "puts every trial on the diagonal")
def random_one_draw_for_all(objective, ranges, n_trials, rng):  # every trial on the diagonal
    trials = []
    for _ in range(n_trials):
        u = rng.uniform()
        params = {k: lo + u * (hi - lo) for k, (lo, hi) in ranges.items()}
        trials.append((params, objective(params)))
    return trials


@wrong("random_search", "2,000 trials", "drawn independently")
def random_mirrored(objective, ranges, n_trials, rng):  # the second value mirrors the first
    trials = []
    for _ in range(n_trials):
        u = rng.uniform()
        fractions = [u if i % 2 == 0 else 1 - u for i in range(len(ranges))]
        params = {
            k: lo + f * (hi - lo)
            for f, (k, (lo, hi)) in zip(fractions, ranges.items(), strict=True)
        }
        trials.append((params, objective(params)))
    return trials


@wrong("random_search", "2,000 trials", "drawn independently")
def random_folded(objective, ranges, n_trials, rng):  # each value a fold of one draw: stripes
    trials = []
    for _ in range(n_trials):
        u = rng.uniform()
        params = {
            k: lo + (u * 3 ** (i + 1)) % 1 * (hi - lo)
            for i, (k, (lo, hi)) in enumerate(ranges.items())
        }
        trials.append((params, objective(params)))
    return trials


@right("random_search")
def random_all_at_once(objective, ranges, n_trials, rng):
    columns = {k: rng.uniform(lo, hi, size=n_trials) for k, (lo, hi) in ranges.items()}
    trials = []
    for i in range(n_trials):
        params = {k: float(v[i]) for k, v in columns.items()}
        trials.append((params, objective(params)))
    return trials


@wrong("zoom_in", "centre near the low end", "cut at the edge")
def zoom_cut_at_edges(ranges, center, factor):
    out = {}
    for k, (lo, hi) in ranges.items():
        half = factor * (hi - lo) / 2
        out[k] = (max(center[k] - half, lo), min(center[k] + half, hi))
    return out


@wrong("zoom_in", "centre well inside", "twice as wide")
def zoom_full_width_each_side(ranges, center, factor):
    out = {}
    for k, (lo, hi) in ranges.items():
        w = factor * (hi - lo)
        start = min(max(center[k] - w, lo), hi - 2 * w)
        out[k] = (start, start + 2 * w)
    return out


@wrong("zoom_in", "centre well inside", "changed an argument it was given")
def zoom_in_place(ranges, center, factor):
    for k, (lo, hi) in ranges.items():
        w = factor * (hi - lo)
        start = min(max(center[k] - w / 2, lo), hi - w)
        ranges[k] = (start, start + w)
    return ranges


@wrong("zoom_in", "centre well inside", "centred on the old range's middle")
def zoom_around_middle(ranges, center, factor):
    return search.zoom_in(ranges, {k: (lo + hi) / 2 for k, (lo, hi) in ranges.items()}, factor)


@wrong("zoom_in", "centre well inside", "the factor itself")
def zoom_width_is_the_factor(ranges, center, factor):
    out = {}
    for k, (lo, hi) in ranges.items():
        start = min(max(center[k] - factor / 2, lo), hi - factor)
        out[k] = (start, start + factor)
    return out


@wrong("zoom_in", "centre near the low end", "sticks out of the old one")
def zoom_not_shifted(ranges, center, factor):
    out = {}
    for k, (lo, hi) in ranges.items():
        half = factor * (hi - lo) / 2
        out[k] = (center[k] - half, center[k] + half)
    return out


@right("zoom_in")
def zoom_with_clip(ranges, center, factor):
    out = {}
    for k, (lo, hi) in ranges.items():
        w = factor * (hi - lo)
        start = float(np.clip(center[k] - w / 2, lo, hi - w))
        out[k] = [start, start + w]
    return out


# ---- 02: sampling on a log scale -------------------------------------------------------------


def _valid_range(low, high):
    if low <= 0 or high <= low:
        raise ValueError("bad range")


@wrong("sample_log_uniform", "each decade gets a quarter", "the exponent that must be uniform")
def log_uniform_linear(low, high, size, rng):
    _valid_range(low, high)
    return rng.uniform(low, high, size)


@wrong("sample_log_uniform", "each decade gets a quarter", "must use the same base")
def log_uniform_natural_log(low, high, size, rng):
    _valid_range(low, high)
    return 10 ** rng.uniform(np.log(low), np.log(high), size)


@wrong("sample_log_uniform", "each decade gets a quarter", "not from a bell curve")
def log_uniform_normal_exponent(low, high, size, rng):
    _valid_range(low, high)
    a, b = np.log10(low), np.log10(high)
    return 10 ** np.clip(rng.normal((a + b) / 2, (b - a) / 4, size), a, b)


@wrong("sample_log_uniform", "2 to 8", "ignore the range you were given")
def log_uniform_fixed_range(low, high, size, rng):  # the first case's range, written in
    _valid_range(low, high)
    return 10 ** rng.uniform(-4, 0, size)


@wrong("sample_log_uniform", "low = 0", "has no logarithm")
def log_uniform_unchecked(low, high, size, rng):
    with np.errstate(divide="ignore"):
        return 10 ** rng.uniform(np.log10(low), np.log10(high), size)


@wrong("sample_log_uniform", "size 1", "a single number")
def log_uniform_squeezed(low, high, size, rng):  # NumPy's own ValueError covers high < low
    if low <= 0:
        raise ValueError("low must be > 0")
    return np.squeeze(10 ** rng.uniform(np.log10(low), np.log10(high), size))


@wrong("sample_log_uniform", "the given generator", "global random functions")
def log_uniform_global_state(low, high, size, rng):
    _valid_range(low, high)
    np.random.seed(7)  # noqa: NPY002 - seeded so the statistical cases are not left to luck
    return 10 ** np.random.uniform(np.log10(low), np.log10(high), size)  # noqa: NPY002


@right("sample_log_uniform")
def log_uniform_by_exp(low, high, size, rng):
    if not 0 < low < high:
        raise ValueError("need 0 < low < high")
    return np.exp(rng.uniform(np.log(low), np.log(high), size))


def _valid_beta_range(low, high):
    if not 0 < low < high < 1:
        raise ValueError("bad range")


@wrong("sample_beta", "spread evenly over 2 decades", "not β itself")
def beta_uniform(low, high, size, rng):
    _valid_beta_range(low, high)
    return rng.uniform(low, high, size)


@wrong("sample_beta", "spread evenly over 2 decades", "not β itself")
def beta_log_uniform_itself(low, high, size, rng):
    _valid_beta_range(low, high)
    return sample_log_uniform(low, high, size, rng)


@wrong("sample_beta", "[0.5, 0.6]", "ignore the range you were given")
def beta_fixed_bounds(low, high, size, rng):  # issue 33: passed every case before
    _valid_beta_range(low, high)
    return 1 - 10 ** rng.uniform(-3, -1, size)


@wrong("sample_beta", "spread evenly over 2 decades", "in the wrong order")
def beta_reversed_bounds(low, high, size, rng):
    _valid_beta_range(low, high)
    return 1 - sample_log_uniform(1 - low, 1 - high, size, rng)


@wrong("sample_beta", "spread evenly over 2 decades", "these are samples of 1 − β")
def beta_returns_one_minus_beta(low, high, size, rng):
    _valid_beta_range(low, high)
    return sample_log_uniform(1 - high, 1 - low, size, rng)


@wrong("sample_beta", "high = 1", "check that 0 < low < high < 1")
def beta_unchecked(low, high, size, rng):
    return 1 - 10 ** rng.uniform(np.log10(1 - high), np.log10(1 - low), size)


@wrong("sample_beta", "the given generator", "global random functions")
def beta_global_state(low, high, size, rng):
    _valid_beta_range(low, high)
    # a new generator, seeded so that the statistical cases are not left to luck
    return 1 - sample_log_uniform(1 - high, 1 - low, size, np.random.default_rng(7))


@right("sample_beta")
def beta_through_log_uniform(low, high, size, rng):
    if not 0 < low < high < 1:
        raise ValueError("need 0 < low < high < 1")
    return 1 - sample_log_uniform(1 - high, 1 - low, size, rng)


sample_log_uniform = sampling.sample_log_uniform


# ---- 03 and 04: batch norm ------------------------------------------------------------------


def _forward_with(Z, gamma, beta, eps, *, axis=1, ddof=0, eps_outside=False, keepdims=True):
    mu = Z.mean(axis=axis, keepdims=keepdims)
    var = Z.var(axis=axis, ddof=ddof, keepdims=keepdims)
    std = np.sqrt(var) + eps if eps_outside else np.sqrt(var + eps)
    Z_norm = (Z - mu) / std
    return gamma * Z_norm + beta, (Z, Z_norm, mu, var, gamma, eps)


@wrong("batchnorm_forward", "worked example", "lost the unit axis")
def forward_without_keepdims(Z, gamma, beta, eps=1e-8):  # issue 33: NumPy's error alone before
    return _forward_with(Z, gamma, beta, eps, keepdims=False)


@wrong("batchnorm_forward", "worked example", "per example (over each column)")
def forward_wrong_axis(Z, gamma, beta, eps=1e-8):
    return _forward_with(Z, gamma, beta, eps, axis=0)


@wrong("batchnorm_forward", "worked example", "divided the variance by m − 1")
def forward_sample_variance(Z, gamma, beta, eps=1e-8):
    return _forward_with(Z, gamma, beta, eps, ddof=1)


@wrong("batchnorm_forward", "eps = 1", "ε belongs inside the square root")
def forward_eps_outside(Z, gamma, beta, eps=1e-8):
    return _forward_with(Z, gamma, beta, eps, eps_outside=True)


@wrong("batchnorm_forward", "eps = 1", "use the eps argument")
def forward_fixed_eps(Z, gamma, beta, eps=1e-8):
    return _forward_with(Z, gamma, beta, 1e-8)


@wrong("batchnorm_forward", "eps = 1", "use the eps argument")
def forward_no_eps(Z, gamma, beta, eps=1e-8):
    mu = Z.mean(axis=1, keepdims=True)
    Z_norm = (Z - mu) / Z.std(axis=1, keepdims=True)
    return gamma * Z_norm + beta, (Z, Z_norm, mu, Z.var(axis=1, keepdims=True), gamma, eps)


@wrong("batchnorm_forward", "worked example", "added β before scaling by γ")
def forward_shift_then_scale(Z, gamma, beta, eps=1e-8):
    cache = _forward_with(Z, gamma, beta, eps)[1]
    return gamma * (cache[1] + beta), cache


@wrong("batchnorm_forward", "worked example", "return all 2 results together")
def forward_only_z_tilde(Z, gamma, beta, eps=1e-8):
    return _forward_with(Z, gamma, beta, eps)[0]


@wrong("batchnorm_forward", "the cache", "the backward pass unpacks it")
def forward_cache_dict(Z, gamma, beta, eps=1e-8):
    Z_tilde, (Z, Z_norm, mu, var, gamma, eps) = _forward_with(Z, gamma, beta, eps)
    return Z_tilde, {"Z": Z, "Z_norm": Z_norm, "mu": mu, "var": var, "gamma": gamma, "eps": eps}


@right("batchnorm_forward")
def forward_by_loops(Z, gamma, beta, eps=1e-8):
    Z_norm = np.empty_like(Z)
    mu, var = np.empty((Z.shape[0], 1)), np.empty((Z.shape[0], 1))
    for i, row in enumerate(Z):
        mu[i, 0] = row.sum() / row.size
        var[i, 0] = ((row - mu[i, 0]) ** 2).sum() / row.size
        Z_norm[i] = (row - mu[i, 0]) / np.sqrt(var[i, 0] + eps)
    return gamma * Z_norm + beta, (Z, Z_norm, mu, var, gamma, eps)


@wrong("batchnorm_backward", "dZ (3 units", "treats the mean and the variance as constants")
def backward_mu_var_constant(dZ_tilde, cache):
    _, Z_norm, _, var, gamma, eps = cache
    dZ = dZ_tilde * gamma / np.sqrt(var + eps)
    return dZ, (dZ_tilde * Z_norm).sum(axis=1, keepdims=True), dZ_tilde.sum(axis=1, keepdims=True)


@wrong("batchnorm_backward", "dZ (3 units", "the one for a γ of 1")
def backward_forgot_gamma(dZ_tilde, cache):
    Z, Z_norm, mu, var, gamma, eps = cache
    dZ = backward_chain_rule(dZ_tilde, (Z, Z_norm, mu, var, np.ones_like(gamma), eps))[0]
    return dZ, *backward_chain_rule(dZ_tilde, cache)[1:]


@wrong("batchnorm_backward", "dZ (3 units", "two things are missing")
def backward_both_mistakes(dZ_tilde, cache):
    _, Z_norm, _, var, _, eps = cache
    dZ = dZ_tilde / np.sqrt(var + eps)
    return dZ, (dZ_tilde * Z_norm).sum(axis=1, keepdims=True), dZ_tilde.sum(axis=1, keepdims=True)


@wrong("batchnorm_backward", "dgamma and dbeta", "averages over the batch")
def backward_mean_not_sum(dZ_tilde, cache):
    dZ, dgamma, dbeta = batchnorm.batchnorm_backward(dZ_tilde, cache)
    m = dZ_tilde.shape[1]
    return dZ, dgamma / m, dbeta / m


@wrong("batchnorm_backward", "dgamma and dbeta", "lost an axis of length 1")
def backward_flat_dgamma(dZ_tilde, cache):
    dZ, dgamma, dbeta = batchnorm.batchnorm_backward(dZ_tilde, cache)
    return dZ, dgamma.ravel(), dbeta.ravel()


@wrong("batchnorm_backward", "eps = 0.5", "with the ε of the cache")
def backward_no_eps(dZ_tilde, cache):
    return batchnorm.batchnorm_backward(dZ_tilde, (*cache[:5], 1e-300))


@right("batchnorm_backward")
def backward_chain_rule(dZ_tilde, cache):  # the step-by-step computation graph
    Z, Z_norm, mu, var, gamma, eps = cache
    m = Z.shape[1]
    dZ_norm = dZ_tilde * gamma
    inv_std = 1 / np.sqrt(var + eps)
    dvar = np.sum(dZ_norm * (Z - mu), axis=1, keepdims=True) * -0.5 * inv_std**3
    dmu = np.sum(-dZ_norm * inv_std, axis=1, keepdims=True) + dvar * np.mean(
        -2 * (Z - mu), axis=1, keepdims=True
    )
    dZ = dZ_norm * inv_std + dvar * 2 * (Z - mu) / m + dmu / m
    return dZ, np.sum(dZ_tilde * Z_norm, axis=1, keepdims=True), dZ_tilde.sum(1, keepdims=True)


def _momentum_checked(momentum):
    if not 0 <= momentum <= 1:
        raise ValueError("momentum")


@wrong("update_running_averages", "momentum 0.9", "PyTorch's momentum means the opposite")
def running_pytorch_form(running_mu, running_var, mu, var, momentum):
    _momentum_checked(momentum)
    return (
        (1 - momentum) * running_mu + momentum * mu,
        (1 - momentum) * running_var + momentum * var,
    )


@wrong("update_running_averages", "momentum 0.9", "changed an argument it was given")
def running_in_place(running_mu, running_var, mu, var, momentum):
    _momentum_checked(momentum)
    running_mu *= momentum
    running_mu += (1 - momentum) * mu
    running_var *= momentum
    running_var += (1 - momentum) * var
    return running_mu, running_var


@wrong("update_running_averages", "momentum 1.5", "is not an average")
def running_unchecked(running_mu, running_var, mu, var, momentum):
    return (
        momentum * running_mu + (1 - momentum) * mu,
        momentum * running_var + (1 - momentum) * var,
    )


@wrong("update_running_averages", "momentum 0.9", "your results are swapped")
def running_swapped(running_mu, running_var, mu, var, momentum):
    return batchnorm.update_running_averages(running_var, running_mu, var, mu, momentum)


@wrong("update_running_averages", "momentum 0.9", "blends in the batch's mean")
def running_variance_from_mean(running_mu, running_var, mu, var, momentum):  # a copy-paste slip
    _momentum_checked(momentum)
    return (
        momentum * running_mu + (1 - momentum) * mu,
        momentum * running_var + (1 - momentum) * mu,
    )


@wrong("update_running_averages", "momentum 0.9", "return all 2 results together")
def running_mean_only(running_mu, running_var, mu, var, momentum):
    _momentum_checked(momentum)
    return momentum * running_mu + (1 - momentum) * mu


@right("update_running_averages")
def running_by_difference(running_mu, running_var, mu, var, momentum):
    if not 0 <= momentum <= 1:
        raise ValueError("momentum must be in [0, 1]")
    return (
        running_mu + (1 - momentum) * (mu - running_mu),
        running_var + (1 - momentum) * (var - running_var),
    )


@wrong("batchnorm_inference", "with the running averages", "the batch's own mean and variance")
def inference_batch_statistics(Z, gamma, beta, running_mu, running_var, eps=1e-8):
    return batchnorm.batchnorm_forward(Z, gamma, beta, eps)[0]


@wrong("batchnorm_inference", "with the running averages", "you divided by the variance")
def inference_std_for_var(Z, gamma, beta, running_mu, running_var, eps=1e-8):
    return gamma * (Z - running_mu) / (running_var + eps) + beta


@wrong("batchnorm_inference", "eps = 1", "use the eps argument")
def inference_fixed_eps(Z, gamma, beta, running_mu, running_var, eps=1e-8):
    return gamma * (Z - running_mu) / np.sqrt(running_var + 1e-8) + beta


@wrong("batchnorm_inference", "eps = 1", "use the eps argument")
def inference_no_eps(Z, gamma, beta, running_mu, running_var, eps=1e-8):
    return gamma * (Z - running_mu) / np.sqrt(running_var) + beta


@wrong("batchnorm_inference", "eps = 1", "ε belongs inside the square root")
def inference_eps_outside(Z, gamma, beta, running_mu, running_var, eps=1e-8):
    return gamma * (Z - running_mu) / (np.sqrt(running_var) + eps) + beta


@wrong("batchnorm_inference", "with the running averages", "added β before scaling by γ")
def inference_shift_then_scale(Z, gamma, beta, running_mu, running_var, eps=1e-8):
    return gamma * ((Z - running_mu) / np.sqrt(running_var + eps) + beta)


@right("batchnorm_inference")
def inference_folded(Z, gamma, beta, running_mu, running_var, eps=1e-8):
    scale = gamma / np.sqrt(running_var + eps)
    return scale * Z + (beta - scale * running_mu)


# ---- 05: softmax regression ------------------------------------------------------------


@wrong("softmax", "large logits", "overflow")
def softmax_naive(Z):
    T = np.exp(Z)
    return T / T.sum(axis=0, keepdims=True)


@wrong("softmax", "worked example", "normalized each class over the examples")
def softmax_wrong_axis(Z):
    T = np.exp(Z - Z.max(axis=1, keepdims=True))
    return T / T.sum(axis=1, keepdims=True)


@wrong("softmax", "worked example", "each row's maximum")
def softmax_row_maximum(Z):  # issue 33: the hint spoke of the sum's axis
    T = np.exp(Z - Z.max(axis=1, keepdims=True))
    return T / T.sum(axis=0, keepdims=True)


@wrong("softmax", "very different scales", "not the whole matrix's")
def softmax_global_max(Z):
    T = np.exp(Z - Z.max())
    return T / T.sum(axis=0, keepdims=True)


@wrong("softmax", "5 examples, one per column", "the sum over the whole matrix")
def softmax_whole_matrix(Z):
    T = np.exp(Z - Z.max(axis=0))
    return T / T.sum()


@wrong("softmax", "worked example", "is the return statement missing")
def softmax_no_return(Z):
    np.exp(Z) / np.exp(Z).sum(axis=0)


@right("softmax")
def softmax_log_sum_exp(Z):
    top = Z.max(axis=0)
    return np.exp(Z - (top + np.log(np.exp(Z - top).sum(axis=0))))


@wrong("one_hot", "labels [1, 0, 3]", "transposed")
def one_hot_rows(labels, C):
    return np.eye(C)[labels]


@wrong("one_hot", "C larger than the largest label", "use the C you are given")
def one_hot_inferred_C(labels, C):
    return np.eye(labels.max() + 1)[:, labels]


@wrong("one_hot", "label equal to C", "must lie in 0 … C − 1")
def one_hot_unchecked(labels, C):
    return np.eye(C)[:, labels]


@wrong("one_hot", "negative label", "the lower end too")
def one_hot_upper_end_only(labels, C):
    if np.any(labels >= C):
        raise ValueError("label out of range")
    return np.eye(C)[:, labels]


@wrong("one_hot", "labels [1, 0, 3]", "one row too high")
def one_hot_one_based(labels, C):
    if np.any((labels < 0) | (labels >= C)):
        raise ValueError("label out of range")
    return np.eye(C)[:, labels - 1]


@right("one_hot")
def one_hot_by_comparison(labels, C):
    labels = np.asarray(labels)
    if np.any((labels < 0) | (labels >= C)):
        raise ValueError("label out of range")
    return (np.arange(C)[:, None] == labels[None, :]).astype(float)


@wrong("cross_entropy_cost", "4 examples", "you summed over the examples")
def cost_no_mean(Y_hat, Y):
    return float(-np.sum(Y * np.log(Y_hat)))


@wrong("cross_entropy_cost", "4 examples", "number of entries (C × m)")
def cost_mean_of_all_entries(Y_hat, Y):
    return float(-np.mean(Y * np.log(Y_hat)))


@wrong("cross_entropy_cost", "4 examples", "the cost is positive")
def cost_no_minus(Y_hat, Y):
    return float(np.sum(Y * np.log(Y_hat)) / Y.shape[1])


@wrong("cross_entropy_cost", "4 examples", "two-class (binary)")
def cost_binary_formula(Y_hat, Y):
    return float(-np.sum(Y * np.log(Y_hat) + (1 - Y) * np.log(1 - Y_hat)) / Y.shape[1])


@wrong("cross_entropy_cost", "4 examples", "return one number")
def cost_as_array(Y_hat, Y):
    return -np.sum(Y * np.log(Y_hat), axis=0, keepdims=True) / Y.shape[1]


@right("cross_entropy_cost")
def cost_true_class_only(Y_hat, Y):
    return float(-np.mean(np.log(Y_hat[Y.argmax(axis=0), np.arange(Y.shape[1])])))


def _forward(W, b, X):
    return softmax.softmax(W @ X + b)


@wrong("softmax_regression_step", "W and b after one step", "your step goes uphill")
def step_wrong_sign(W, b, X, Y, learning_rate):
    Y_hat = _forward(W, b, X)
    dZ = Y - Y_hat
    m = X.shape[1]
    cost = softmax.cross_entropy_cost(Y_hat, Y)
    return W - learning_rate * dZ @ X.T / m, b - learning_rate * dZ.mean(1, keepdims=True), cost


@wrong("softmax_regression_step", "W and b after one step", "m times too large")
def step_no_one_over_m(W, b, X, Y, learning_rate):
    Y_hat = _forward(W, b, X)
    dZ = Y_hat - Y
    cost = softmax.cross_entropy_cost(Y_hat, Y)
    return W - learning_rate * dZ @ X.T, b - learning_rate * dZ.sum(1, keepdims=True), cost


@wrong("softmax_regression_step", "cost is the one before", "before the step")
def step_cost_after_update(W, b, X, Y, learning_rate):
    W, b, _ = softmax.softmax_regression_step(W, b, X, Y, learning_rate)
    return W, b, softmax.cross_entropy_cost(_forward(W, b, X), Y)


@wrong("softmax_regression_step", "W and b after one step", "changed an argument it was given")
def step_in_place(W, b, X, Y, learning_rate):
    W_new, b_new, cost = softmax.softmax_regression_step(W, b, X, Y, learning_rate)
    W[...] = W_new
    b[...] = b_new
    return W, b, cost


@wrong("softmax_regression_step", "W and b after one step", "lost an axis of length 1")
def step_bias_lost_its_shape(W, b, X, Y, learning_rate):
    W, b, cost = softmax.softmax_regression_step(W, b, X, Y, learning_rate)
    return W, b.ravel(), cost


@wrong("softmax_regression_step", "W and b after one step", "gradient of W is transposed")
def step_dW_transposed(W, b, X, Y, learning_rate):
    Y_hat = _forward(W, b, X)
    dZ = Y_hat - Y
    m = X.shape[1]
    dW = X @ dZ.T / m
    db = dZ.sum(axis=1, keepdims=True) / m
    return W - learning_rate * dW, b - learning_rate * db, softmax.cross_entropy_cost(Y_hat, Y)


@right("softmax_regression_step")
def step_with_einsum(W, b, X, Y, learning_rate):
    m = X.shape[1]
    Y_hat = _forward(W, b, X)
    cost = -np.einsum("ij,ij->", Y, np.log(Y_hat)) / m
    dZ = Y_hat - Y
    return (
        W - learning_rate * np.einsum("cm,nm->cn", dZ, X) / m,
        b - learning_rate * (dZ @ np.ones((m, 1)) / m),
        cost,
    )


# ---- 06: TensorFlow on a quadratic -------------------------------------------------------


@wrong("quadratic_cost", "w = 2", "not a TensorFlow tensor")
def cost_through_numpy(w, coefficients):
    c = np.asarray(coefficients, dtype=float)
    return c[0] * w.numpy() ** 2 + c[1] * w.numpy() + c[2]


@wrong("quadratic_cost", "w = 2", "NumPy cannot convert")
def cost_numpy_coefficients(w, coefficients):  # issue 33: passed every case before
    c = np.asarray(coefficients, dtype=np.float32)
    return c[0] * w**2 + c[1] * w + c[2]


@wrong("quadratic_cost", "w = 2", "cannot be unpacked")
def cost_unpacked(w, coefficients):  # learner A: fine eagerly, not in graph mode
    c0, c1, c2 = coefficients
    return c0 * w**2 + c1 * w + c2


@wrong("quadratic_cost", "w = 2", "tf.constant accepts only values")
def cost_constant_of_coefficients(w, coefficients):  # learner B: a NumPy reflex, in TensorFlow
    import tensorflow as tf

    c = tf.constant(coefficients, dtype=tf.float32)
    return c[0] * w**2 + c[1] * w + c[2]


@wrong("quadratic_cost", "coefficients [2, 3, -4]", "ignores the coefficients given")
def cost_hard_coded(w, coefficients):
    return w**2 - 12 * w + 36


@wrong("quadratic_cost", "w = 2", "in reverse order")
def cost_reversed(w, coefficients):
    return coefficients[2] * w**2 + coefficients[1] * w + coefficients[0]


@wrong("quadratic_cost", "w = 2", "lacks w")
def cost_no_w_in_the_middle(w, coefficients):
    return coefficients[0] * w**2 + coefficients[1] + coefficients[2]


@wrong("quadratic_cost", "w = 2", "the tape lost w")
def cost_on_a_copy_of_w(w, coefficients):
    import tensorflow as tf

    w = tf.Variable(w)
    return coefficients[0] * w**2 + coefficients[1] * w + coefficients[2]


@right("quadratic_cost")
def cost_by_unstacking(w, coefficients):
    import tensorflow as tf

    c0, c1, c2 = tf.unstack(tf.cast(coefficients, tf.float32))
    return (c0 * w + c1) * w + c2


def _descend(coefficients, learning_rate, num_steps, *, start=0.0, extra=0, cost=None):
    import tensorflow as tf

    w = tf.Variable(start)
    for _ in range(num_steps + extra):
        with tf.GradientTape() as tape:
            J = (cost or tf_quadratic.quadratic_cost)(w, coefficients)
        w.assign_sub(learning_rate * tape.gradient(J, w))
    return w


@right("minimize_quadratic")
def minimize_by_assign_sub(coefficients, learning_rate, num_steps):  # correct, no optimizer
    return float(_descend(coefficients, learning_rate, num_steps).numpy())


@wrong("minimize_quadratic", "3 steps", "one step more than num_steps")
def minimize_one_step_too_many(coefficients, learning_rate, num_steps):
    return float(_descend(coefficients, learning_rate, num_steps, extra=1).numpy())


@wrong("minimize_quadratic", "3 steps", "does not start at 0")
def minimize_from_one(coefficients, learning_rate, num_steps):
    return float(_descend(coefficients, learning_rate, num_steps, start=1.0).numpy())


@wrong("minimize_quadratic", "3 steps", "return one number")
def minimize_returns_the_variable(coefficients, learning_rate, num_steps):
    return _descend(coefficients, learning_rate, num_steps)


@wrong("minimize_quadratic", "the learning rate is used", "use the learning_rate argument")
def minimize_fixed_rate(coefficients, learning_rate, num_steps):
    return float(_descend(coefficients, 0.1, num_steps).numpy())


_kept = {}


@wrong("minimize_quadratic", "3 steps", "fresh on every call")
def minimize_keeps_w(coefficients, learning_rate, num_steps):  # one w for every call
    import tensorflow as tf

    w = _kept.setdefault("w", tf.Variable(0.0))
    for _ in range(num_steps):
        with tf.GradientTape() as tape:
            J = tf_quadratic.quadratic_cost(w, coefficients)
        w.assign_sub(learning_rate * tape.gradient(J, w))
    return float(w.numpy())


@wrong("minimize_quadratic", "other coefficients", "the course's example")
def minimize_fixed_cost(coefficients, learning_rate, num_steps):
    return float(_descend(coefficients, learning_rate, num_steps, cost=cost_hard_coded).numpy())


def _sgd(coefficients, learning_rate, num_steps, *, start=0.0, cost_in_the_tape=True):
    import keras
    import tensorflow as tf

    w = tf.Variable(start)
    optimizer = keras.optimizers.SGD(learning_rate=learning_rate)
    for _ in range(num_steps):
        with tf.GradientTape() as tape:
            if cost_in_the_tape:
                cost = tf_quadratic.quadratic_cost(w, coefficients)
        if not cost_in_the_tape:  # the tape has recorded nothing
            cost = tf_quadratic.quadratic_cost(w, coefficients)
        optimizer.apply_gradients([(tape.gradient(cost, w), w)])
    return float(w.numpy())


@wrong("minimize_quadratic", "3 steps", "an integer variable")
def minimize_int_variable(coefficients, learning_rate, num_steps):  # issue 33
    return _sgd(coefficients, learning_rate, num_steps, start=0)


@wrong("minimize_quadratic", "3 steps", "the tape found no path from the cost to w")
def minimize_cost_outside_the_tape(coefficients, learning_rate, num_steps):  # issue 33
    return _sgd(coefficients, learning_rate, num_steps, cost_in_the_tape=False)


# ---- 07: the digits model -------------------------------------------------------------------


@right("build_model")
def model_functional(hidden_units=(128, 128)):
    import keras

    inputs = keras.Input(shape=(64,))
    a = inputs
    for units in hidden_units:
        z = keras.layers.Dense(units, use_bias=False)(a)
        a = keras.layers.Activation("relu")(keras.layers.BatchNormalization()(z))
    return keras.Model(inputs, keras.layers.Dense(10)(a))


def _model(hidden_units, block, *, output_activation=None, compiled=False):
    import keras

    layers = [keras.Input(shape=(64,))]
    for units in hidden_units:
        layers += block(units)
    layers.append(keras.layers.Dense(10, activation=output_activation))
    model = keras.Sequential(layers)
    if compiled:
        model.compile(optimizer="adam", loss="categorical_crossentropy")
    return model


@wrong("build_model", "the default", "the activation comes after batch norm")
def model_relu_before_bn(hidden_units=(128, 128)):
    import keras

    return _model(
        hidden_units,
        lambda n: [
            keras.layers.Dense(n, use_bias=False, activation="relu"),
            keras.layers.BatchNormalization(),
        ],
    )


@wrong("build_model", "the default", "have a bias")
def model_with_bias(hidden_units=(128, 128)):
    import keras

    return _model(
        hidden_units,
        lambda n: [keras.layers.Dense(n), keras.layers.BatchNormalization(), keras.layers.ReLU()],
    )


@wrong("build_model", "the default", "the output layer gives logits")
def model_softmax_output(hidden_units=(128, 128)):
    return _model(hidden_units, _bn_block, output_activation="softmax")


def _bn_block(n):
    import keras

    return [
        keras.layers.Dense(n, use_bias=False),
        keras.layers.BatchNormalization(),
        keras.layers.ReLU(),
    ]


@wrong("build_model", "the default", "build the model only")
def model_compiled(hidden_units=(128, 128)):
    return _model(hidden_units, _bn_block, compiled=True)


@wrong("build_model", "the default", "no input layer")
def model_without_input(hidden_units=(128, 128)):  # issue 33, learner A
    import keras

    return keras.Sequential(
        [layer for n in hidden_units for layer in _bn_block(n)] + [keras.layers.Dense(10)]
    )


@wrong("build_model", "one hidden layer", "one block per entry of hidden_units")
def model_always_two(hidden_units=(128, 128)):
    return _model((hidden_units[0], hidden_units[1]), _bn_block)  # two blocks written out


def _per_example(logits, labels):
    import keras

    return keras.losses.categorical_crossentropy(labels, logits, from_logits=True)


@right("compute_total_loss")
def total_loss_by_log_softmax(logits, labels):
    import tensorflow as tf

    return -tf.reduce_sum(tf.cast(labels, tf.float32) * tf.nn.log_softmax(logits, axis=1))


@wrong("compute_total_loss", "3 examples", "you averaged over the batch")
def total_loss_mean(logits, labels):
    import tensorflow as tf

    return tf.reduce_mean(_per_example(logits, labels))


@wrong("compute_total_loss", "3 examples", "treats the logits as probabilities")
def total_loss_not_from_logits(logits, labels):
    import keras
    import tensorflow as tf

    return tf.reduce_sum(keras.losses.categorical_crossentropy(labels, logits))


@wrong("compute_total_loss", "3 examples", "in the other order")
def total_loss_swapped(logits, labels):
    import tensorflow as tf

    return tf.reduce_sum(_per_example(labels, logits))


@wrong("compute_total_loss", "3 examples", "you transposed the batch")
def total_loss_transposed(logits, labels):  # the course's column layout, kept by habit
    import tensorflow as tf

    return tf.reduce_sum(_per_example(tf.transpose(logits), tf.transpose(labels)))


@wrong("compute_total_loss", "large logits", "exponentials of large logits overflow")
def total_loss_naive_softmax(logits, labels):
    import tensorflow as tf

    p = tf.exp(logits) / tf.reduce_sum(tf.exp(logits), axis=1, keepdims=True)
    return -tf.reduce_sum(labels * tf.math.log(p))


@wrong("compute_total_loss", "3 examples", "not a TensorFlow tensor")
def total_loss_numpy(logits, labels):
    z = np.asarray(logits)
    log_p = z - z.max(axis=1, keepdims=True)
    log_p -= np.log(np.exp(log_p).sum(axis=1, keepdims=True))
    return float(-(np.asarray(labels) * log_p).sum())


def _step(model, optimizer, x, y, *, training=True, divide=True, returns="total", apply=True):
    import tensorflow as tf

    with tf.GradientTape() as tape:
        total = tf_digits.compute_total_loss(model(x, training=training), y)
        loss = total / tf.cast(tf.shape(x)[0], tf.float32) if divide else total
    gradients = tape.gradient(loss, model.trainable_variables)
    if apply:
        optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
    return {"total": total, "mean": loss, "float": float(total), "none": None}[returns]


@right("train_step")
def step_with_keras_loss(model, optimizer, x, y):
    import keras
    import tensorflow as tf

    with tf.GradientTape() as tape:
        logits = model(x, training=True)
        mean = keras.losses.CategoricalCrossentropy(from_logits=True)(y, logits)
    gradients = tape.gradient(mean, model.trainable_variables)
    optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
    return mean * tf.cast(tf.shape(x)[0], tf.float32)


@wrong("train_step", "one Adam step", "inference mode")
def step_inference_mode(model, optimizer, x, y):
    return _step(model, optimizer, x, y, training=False)


@wrong("train_step", "one Adam step", "this is the step of the total")
def step_on_total(model, optimizer, x, y):  # the course's own loop differentiates the total
    return _step(model, optimizer, x, y, divide=False)


@wrong("train_step", "one Adam step", "you returned the batch's mean loss")
def step_returns_mean(model, optimizer, x, y):
    return _step(model, optimizer, x, y, returns="mean")


@wrong("train_step", "one Adam step", "not a TensorFlow tensor")
def step_returns_float(model, optimizer, x, y):
    return _step(model, optimizer, x, y, returns="float")


@wrong("train_step", "one Adam step", "your weights did not move")
def step_not_applied(model, optimizer, x, y):
    return _step(model, optimizer, x, y, apply=False)


@wrong("train_step", "a smaller last batch", "not a fixed number")
def step_fixed_batch(model, optimizer, x, y):
    import tensorflow as tf

    with tf.GradientTape() as tape:
        total = tf_digits.compute_total_loss(model(x, training=True), y)
        mean = total / 8.0
    gradients = tape.gradient(mean, model.trainable_variables)
    optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
    return total


@wrong("train_step", "one Adam step", "the optimizer you were given took no step")
def step_own_adam(model, optimizer, x, y):
    import keras

    return _step(model, keras.optimizers.Adam(learning_rate=0.01), x, y)


@wrong("train_step", "one Adam step", "convert the batch size to the total's dtype")
def step_int_batch_size(model, optimizer, x, y):
    import tensorflow as tf

    with tf.GradientTape() as tape:
        total = tf_digits.compute_total_loss(model(x, training=True), y)
        mean = total / tf.shape(x)[0]
    gradients = tape.gradient(mean, model.trainable_variables)
    optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
    return total


@wrong("train_step", "one Adam step", "divide the total by the batch size inside that block")
def step_divides_after_the_tape(model, optimizer, x, y):
    import tensorflow as tf

    with tf.GradientTape() as tape:
        total = tf_digits.compute_total_loss(model(x, training=True), y)
    mean = total / tf.cast(tf.shape(x)[0], total.dtype)
    gradients = tape.gradient(mean, model.trainable_variables)
    optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
    return total


# ---- 08: the search space asked of an Optuna trial ----------------------------------------


def _space(trial, *, beta_log=True, rate_log=True, units_log=True, convert=True, units_high=256):
    rate = trial.suggest_float("learning_rate", 1e-4, 1e-1, log=rate_log)
    one_minus = trial.suggest_float("one_minus_beta1", 1e-3, 1e-1, log=beta_log)
    units = trial.suggest_int("hidden_units", 16, units_high, log=units_log)
    k = trial.suggest_int("log2_batch_size", 4, 7)
    if not convert:
        return {"learning_rate": rate, "beta1": one_minus, "hidden_units": units, "batch_size": k}
    return {
        "learning_rate": rate,
        "beta1": 1 - one_minus,
        "hidden_units": units,
        "batch_size": 2**k,
    }


@wrong("suggest_hyperparameters", "ranges and scales", "search one_minus_beta1 on a log scale")
def suggest_beta_uniform(trial):
    return _space(trial, beta_log=False)


@wrong("suggest_hyperparameters", "ranges and scales", "search learning_rate on a log scale")
def suggest_rate_uniform(trial):
    return _space(trial, rate_log=False)


@wrong("suggest_hyperparameters", "ranges and scales", "search hidden_units on a log scale")
def suggest_units_uniform(trial):
    return _space(trial, units_log=False)


@wrong("suggest_hyperparameters", "a FixedTrial", "β1 is one minus the trial's one_minus_beta1")
def suggest_unconverted(trial):
    return _space(trial, convert=False)


@wrong("suggest_hyperparameters", "ranges and scales", "the range of hidden_units is [16, 256]")
def suggest_wrong_bound(trial):
    return _space(trial, units_high=128)


@wrong("suggest_hyperparameters", "a FixedTrial", "must be an int")
def suggest_float_batch(trial):
    return _space(trial) | {"batch_size": float(2 ** trial.params["log2_batch_size"])}


@wrong("suggest_hyperparameters", "a FixedTrial", "ask the trial for exactly these names")
def suggest_other_names(trial):
    rate = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
    return {"learning_rate": rate, "beta1": 0.9, "hidden_units": 64, "batch_size": 32}


@right("suggest_hyperparameters")
def suggest_in_another_order(trial):
    k = trial.suggest_int("log2_batch_size", 4, 7)
    units = trial.suggest_int("hidden_units", 16, 256, log=True)
    beta1 = 1.0 - trial.suggest_float("one_minus_beta1", 0.001, 0.1, log=True)
    rate = trial.suggest_float("learning_rate", 0.0001, 0.1, log=True)
    return dict(batch_size=1 << k, hidden_units=units, beta1=beta1, learning_rate=rate)


# ---- the catalogue's tests ----------------------------------------------------------------------

EXERCISE_NAMES = list(checks.EXERCISES)
REFERENCES = {name: e.reference for name, e in checks.EXERCISES.items()}


def _hint_line(message: str) -> str:
    return next(line for line in message.splitlines() if line.startswith("  hint: "))


def _failure(row: Wrong) -> str:
    with pytest.raises(checks.CheckFailure) as failure:
        checks.EXERCISES[row.exercise].check(row.function)
    return str(failure.value)


@pytest.mark.parametrize("row", WRONG, ids=lambda row: row.function.__name__)
def test_a_plausible_mistake_is_rejected_with_its_own_diagnosis(row):
    message = _failure(row)
    first, *rest = message.splitlines()
    assert first.startswith(f"✗ {row.exercise} — case "), first
    assert row.case in first, first
    assert any(line.startswith("  expected ") for line in rest), message
    assert any(line.startswith("  got ") for line in rest), message
    assert row.diagnosis in _hint_line(message), message
    assert "Traceback" not in message and "helpers/checks" not in message


@pytest.mark.parametrize("exercise", EXERCISE_NAMES)
def test_every_exercise_rejects_five_mistakes_each_with_its_own_diagnosis(exercise):
    rows = [row for row in WRONG if row.exercise == exercise]
    assert len({row.diagnosis for row in rows}) >= 5, [r.function.__name__ for r in rows]
    hint_lines = {row: _hint_line(_failure(row)) for row in rows}
    for row in rows:  # no other mistake of this exercise is told this one's diagnosis
        for other, line in hint_lines.items():
            if other.diagnosis != row.diagnosis:
                assert row.diagnosis not in line, (row.function.__name__, other.function.__name__)


@pytest.mark.parametrize("exercise", EXERCISE_NAMES)
def test_the_reference_and_every_correct_alternative_pass(exercise, capsys):
    correct = [r.function for r in RIGHT if r.exercise == exercise]
    assert correct, f"no correct alternative of {exercise} in the catalogue"
    for function in (REFERENCES[exercise], *correct):
        checks.EXERCISES[exercise].check(function)
        assert capsys.readouterr().out.startswith(f"✓ {exercise}: "), function.__name__


# ---- messages only: no checker internals; the learner's own frames ------------------------------

# Code in a diagnosis: a backtick, a call, a power or an assignment (naming tf.Variable is not).
CODE = re.compile(r"`|[A-Za-z_]\w*\(|\*\*|\w\s*[-+*/]?=\s*\w")


def test_a_failing_check_renders_its_message_alone_in_ipython():
    with pytest.raises(checks.CheckFailure) as failure:
        checks.check_softmax(softmax_row_maximum)
    rendered = failure.value._render_traceback_()
    assert rendered == str(failure.value).splitlines()
    assert rendered[0].startswith('✗ softmax — case "')
    assert isinstance(failure.value, AssertionError)  # still an error for nbgrader


def test_an_error_in_the_learners_code_shows_the_learners_frames_only():
    def normalize(T):
        return T / T.sum(axis=0)[:, 0]  # a sum of shape (m,) has no second axis

    def my_softmax(Z):
        return normalize(np.exp(Z))

    with pytest.raises(checks.CheckFailure) as failure:
        checks.check_softmax(my_softmax)
    message = str(failure.value)
    where = message.split("  where, in your code:\n")[1].splitlines()
    assert where[0].startswith("    test_checks.py, line ") and "in my_softmax" in where[0]
    assert "in normalize: return T / T.sum(axis=0)[:, 0]" in where[1]
    assert "probes.py" not in message and "driver.py" not in message and "numpy" not in message


def test_an_error_in_the_courses_code_speaks_of_the_learners_call():
    with pytest.raises(checks.CheckFailure) as failure:
        checks.check_sample_beta(beta_reversed_bounds)
    message = str(failure.value)
    assert (
        "ValueError from the course's sample_log_uniform, which your code called as "
        "sample_log_uniform(low=0.1, high=0.001, "
    ) in message
    assert "in beta_reversed_bounds:" in message
    assert "raised in sample_log_uniform" not in message


@pytest.mark.parametrize("exercise", EXERCISE_NAMES)
def test_no_diagnosis_gives_code(exercise):
    table = checks.EXERCISES[exercise].cases()
    hidden = checks.EXERCISES[exercise].hidden_cases(np.random.default_rng(0))
    texts = [c.hint for c in (*table.cases, *hidden)]
    texts += [hint for c in (*table.cases, *hidden) for _, hint in c.error_hints]
    texts += [_hint_line(_failure(row)) for row in WRONG if row.exercise == exercise]
    for text in texts:
        assert not CODE.search(text), text


# ---- hints that escalate -----------------------------------------------------------------------

DERIVATIONS = {
    # what the final formula would show: never in a rung
    "batchnorm_backward": ("dz(i) =", "dZ =", "m * dZ_norm", "m·dz_norm", "/ (m"),
    "softmax_regression_step": ("dW =", "db =", "X.T", "Xᵀ", "@"),
}


@pytest.mark.parametrize("exercise", EXERCISE_NAMES)
def test_every_exercise_has_a_ladder_that_ends_in_a_code_shape_or_an_intermediate_result(exercise):
    ladder = checks.EXERCISES[exercise].cases().ladder
    assert len(ladder) == 3
    if exercise in DERIVATIONS:
        assert ladder[-1].label == "an intermediate result"
        for rung in ladder:
            assert not any(final in rung.text for final in DERIVATIONS[exercise]), rung.text
    else:
        assert ladder[-1].label == "the code shape" and "\n" in ladder[-1].text


def _check_message(check, function):
    with pytest.raises(checks.CheckFailure) as failure:
        check(function)
    return str(failure.value)


def test_the_same_failure_again_climbs_the_ladder_one_rung_at_a_time():
    ladder = checks.EXERCISES["batchnorm_forward"].cases().ladder
    first = _check_message(checks.check_batchnorm_forward, forward_without_keepdims)
    assert "  hint 2 of 4 (" not in first and "lost the unit axis" in first
    assert first.endswith('run this check again, or hint("batchnorm_forward"), for hint 2 of 4)')
    second = _check_message(checks.check_batchnorm_forward, forward_without_keepdims)
    assert "  hint 2 of 4 (the idea): Four lines" in second and "  hint 3 of 4 (" not in second
    third = _check_message(checks.check_batchnorm_forward, forward_without_keepdims)
    assert "  hint 3 of 4 (the tools): Z.mean(axis=1, keepdims=True)" in third
    fourth = _check_message(checks.check_batchnorm_forward, forward_without_keepdims)
    assert "  hint 4 of 4 (the code shape):\n      mu = ...\n" in fourth
    assert fourth.endswith("and the progress cell will then say so)")
    assert 'show_solution("batchnorm_forward")' in fourth
    assert ladder[2].text.splitlines()[0] in fourth
    # another failure starts at its own diagnosis
    other = _check_message(checks.check_batchnorm_forward, forward_sample_variance)
    assert "  hint 2 of 4 (" not in other and "divided the variance by m − 1" in other


def test_a_passing_check_starts_the_ladder_again(capsys):
    _check_message(checks.check_softmax, softmax_row_maximum)
    _check_message(checks.check_softmax, softmax_row_maximum)
    checks.check_softmax(softmax.softmax)
    assert "  hint 2 of 4 (" not in _check_message(checks.check_softmax, softmax_row_maximum)


def test_hint_gives_the_next_rung_and_then_points_to_the_solution(capsys):
    _check_message(checks.check_softmax_regression_step, step_wrong_sign)
    checks.hint("softmax_regression_step")
    assert capsys.readouterr().out.startswith("softmax_regression_step — hint 2 of 4 (the idea):")
    checks.hint("softmax_regression_step")
    checks.hint("softmax_regression_step")
    out = capsys.readouterr().out
    assert "hint 4 of 4 (an intermediate result): ∂J/∂Z = (Ŷ − Y) / m" in out
    assert 'that was the last hint: show_solution("softmax_regression_step")' in out
    # the check run again shows the rungs asked for so far
    message = _check_message(checks.check_softmax_regression_step, step_wrong_sign)
    assert "  hint 4 of 4 (" in message and "  hint 2 of 4 (" in message
    with pytest.raises(ValueError, match="name must be one of the exercises"):
        checks.hint("softmax_step")


def test_the_solution_is_shown_only_when_asked_and_progress_records_it(notebook, capsys):
    namespace = notebook.user_ns
    namespace.update(softmax=softmax.softmax, one_hot=softmax.one_hot)
    checks.progress("05_softmax_regression", namespace)
    assert "  ✓ softmax\n" in capsys.readouterr().out
    checks.show_solution("softmax")
    shown = capsys.readouterr().out
    assert "def softmax(Z" in shown and "Z.max(axis=0, keepdims=True)" in shown
    assert all(f"def {h.__name__}(" in shown for h in checks._helpers_used(softmax.softmax))
    checks.progress("05_softmax_regression", namespace)
    out = capsys.readouterr().out
    assert "  ✓ softmax — passed with the solution shown\n" in out
    assert "  ✓ one_hot\n" in out


@pytest.mark.parametrize("name", EXERCISE_NAMES)
def test_the_untouched_stub_fails_with_a_clear_message(name):
    def stub(*args):
        raise NotImplementedError()

    # named after the exercise, whatever the learner called the function
    expected = rf"NotImplementedError \(raised in {name}\)\n  hint: replace .* in {name} "
    with pytest.raises(checks.CheckFailure, match=expected):
        checks.EXERCISES[name].check(stub)


@pytest.mark.parametrize("name", EXERCISE_NAMES)
@pytest.mark.parametrize("not_a_function", [None, 3, "softmax"])
def test_passing_something_other_than_a_function_is_explained(name, not_a_function):
    with pytest.raises(checks.CheckFailure, match="expected a function"):
        checks.EXERCISES[name].check(not_a_function)


def test_an_exception_inside_the_students_code_is_reported_not_raised():
    def broken(Z):
        return Z / undefined_name  # noqa: F821

    with pytest.raises(
        checks.CheckFailure, match="got NameError \\(raised in softmax\\): name 'undefined_name'"
    ):
        checks.check_softmax(broken)


def test_every_graded_function_has_a_check_and_a_reference():
    for name, exercise in checks.EXERCISES.items():
        assert exercise.check.__name__ == f"check_{name}"
        assert exercise.reference.__name__ == name
        table = exercise.cases()
        assert table.name == name and table.reference is exercise.reference
        assert table.cases and not any(case.hidden for case in table.cases)


def test_a_broken_dependency_is_not_charged_to_the_function_built_on_it():
    namespace = {"np": np, "cross_entropy_cost": softmax.cross_entropy_cost}
    exec("def softmax(Z):\n    return Z", namespace)  # the learner's broken softmax
    exec(
        "def step(W, b, X, Y, learning_rate):\n"
        "    Y_hat = softmax(W @ X + b)\n"
        "    m = X.shape[1]\n"
        "    dZ = Y_hat - Y\n"
        "    return (W - learning_rate * dZ @ X.T / m,\n"
        "            b - learning_rate * dZ.sum(1, keepdims=True) / m,\n"
        "            cross_entropy_cost(Y_hat, Y))\n",
        namespace,
    )
    broken = namespace["softmax"]
    checks.check_softmax_regression_step(namespace["step"])
    assert namespace["softmax"] is broken, "the learner's function is restored afterwards"


# ---- a lesson that keeps running: the course's version stands in after a failing check -------


class FakeShell:
    """What the checks use of IPython's shell: the notebook's namespace and the cell number."""

    def __init__(self, namespace):
        self.user_ns = namespace
        self.execution_count = 1


@pytest.fixture
def notebook(monkeypatch):
    """A notebook's namespace, as if the checks ran in its kernel."""
    shell = FakeShell({"np": np})
    monkeypatch.setattr(stand_ins, "interactive_shell", lambda: shell)
    return shell


def test_a_failing_check_in_a_notebook_puts_the_course_version_in_place(notebook, capsys):
    namespace = notebook.user_ns
    exec("def softmax(Z):\n    raise NotImplementedError()", namespace)
    mine = namespace["softmax"]
    with pytest.raises(checks.CheckFailure) as failure:
        checks.check_softmax(mine)
    assert str(failure.value).endswith(
        "until softmax passes its check, the cells below use the course's version"
    )
    course = namespace["softmax"]
    assert course is not mine and stand_ins.is_stand_in(course)
    Z = np.array([[1.0, 2.0], [3.0, 0.0]])
    np.testing.assert_allclose(course(Z), softmax.softmax(Z))
    course(Z)  # the same cell: said once
    notebook.execution_count += 1
    course(Z)  # the next cell says it again
    assert capsys.readouterr().out.count("(softmax: the course's version") == 2

    # re-running the check on the stand-in must not pass it: the learner is asking again, so the
    # last failure comes back one rung further, and says how to check their own code again
    for rung in (2, 3):
        with pytest.raises(checks.CheckFailure) as again:
            checks.check_softmax(course)
        text = str(again.value)
        assert text.startswith('✗ softmax — case "'), text
        assert f"  hint {rung} of 4 (" in text and f"  hint {rung + 1} of 4 (" not in text
        assert "run your exercise cell first, then this check" in " ".join(text.split())
        assert f"for hint {rung + 1} of 4)" in text
    # the learner runs a fixed exercise cell: theirs is bound again and passes
    exec("def softmax(Z):\n    e = np.exp(Z - Z.max(0))\n    return e / e.sum(0)", namespace)
    checks.check_softmax(namespace["softmax"])
    assert not stand_ins.is_stand_in(namespace["softmax"])


def test_the_course_version_stands_in_only_for_the_name_the_notebook_uses(notebook):
    namespace = notebook.user_ns
    exec("def my_softmax(Z):\n    return Z", namespace)
    with pytest.raises(checks.CheckFailure) as failure:
        checks.check_softmax(namespace["my_softmax"])
    assert "course's version" not in str(failure.value)
    assert "softmax" not in namespace


def test_outside_a_notebook_nothing_is_rebound(monkeypatch):
    namespace = {"np": np}
    exec("def softmax(Z):\n    return Z", namespace)
    mine = namespace["softmax"]
    assert stand_ins.interactive_shell() is None  # pytest runs no IPython shell
    with pytest.raises(checks.CheckFailure) as failure:
        checks.check_softmax(mine)
    assert "course's version" not in str(failure.value)
    assert namespace["softmax"] is mine


def test_a_stand_in_is_charged_to_no_later_exercise(notebook, capsys):
    namespace = notebook.user_ns
    namespace["cross_entropy_cost"] = softmax.cross_entropy_cost
    exec("def softmax(Z):\n    raise NotImplementedError()", namespace)
    with pytest.raises(checks.CheckFailure):
        checks.check_softmax(namespace["softmax"])
    exec(
        "def step(W, b, X, Y, learning_rate):\n"
        "    Y_hat = softmax(W @ X + b)\n"
        "    m = X.shape[1]\n"
        "    dZ = Y_hat - Y\n"
        "    return (W - learning_rate * dZ @ X.T / m,\n"
        "            b - learning_rate * dZ.sum(1, keepdims=True) / m,\n"
        "            cross_entropy_cost(Y_hat, Y))\n",
        namespace,
    )
    capsys.readouterr()
    checks.check_softmax_regression_step(namespace["step"])
    out = capsys.readouterr().out
    assert out.startswith("✓ softmax_regression_step") and "course's version" not in out


def test_a_stand_in_changes_no_other_checks_verdict(notebook):
    """A later function that calls the failed one by name (not a declared dependency) is
    checked with the learner's own version, as it was before any stand-in existed."""
    namespace = notebook.user_ns
    exec("def batchnorm_forward(Z, gamma, beta, eps):\n    return Z, ()", namespace)
    with pytest.raises(checks.CheckFailure):
        checks.check_batchnorm_forward(namespace["batchnorm_forward"])
    assert stand_ins.is_stand_in(namespace["batchnorm_forward"])
    namespace["reference_backward"] = batchnorm.batchnorm_backward
    exec(
        "def batchnorm_backward(dZ_tilde, cache):\n"
        "    Z, _, _, _, gamma, eps = cache\n"
        "    batchnorm_forward(Z, gamma, 0 * gamma, eps)[1][0]  # the learner's: IndexError\n"
        "    return reference_backward(dZ_tilde, cache)\n",
        namespace,
    )
    with pytest.raises(checks.CheckFailure, match="IndexError"):
        checks.check_batchnorm_backward(namespace["batchnorm_backward"])
    assert stand_ins.is_stand_in(namespace["batchnorm_forward"]), "the stand-in is back afterwards"


# ---- each exercise graded on its own; exceptions name their function -------------------------


UNSOLVED_QUADRATIC = (
    "def quadratic_cost(w, coefficients):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n"
)
MINIMIZE = (
    "def minimize_quadratic(coefficients, learning_rate, num_steps):\n"
    "    w = tf.Variable(0.0)\n"
    "    optimizer = keras.optimizers.SGD(learning_rate=learning_rate)\n"
    "    for _ in range(num_steps):\n"
    "        with tf.GradientTape() as tape:\n"
    "            cost = quadratic_cost(w, coefficients)\n"
    "        optimizer.apply_gradients([(tape.gradient(cost, w), w)])\n"
    "    return float(w.numpy())\n"
)


@pytest.mark.parametrize("quadratic_cost", ["unsolved", "never run", "wrapped"])
def test_minimize_quadratic_is_graded_with_the_course_quadratic_cost(quadratic_cost, capsys):
    import keras
    import tensorflow as tf

    namespace = {"tf": tf, "keras": keras, "functools": __import__("functools")}
    if quadratic_cost != "never run":
        exec(UNSOLVED_QUADRATIC, namespace)
    exec(MINIMIZE, namespace)
    function = namespace["minimize_quadratic"]
    if quadratic_cost == "wrapped":  # a learner's decorator around their function
        exec(
            "def logged(f):\n"
            "    @functools.wraps(f)\n"
            "    def inner(*a):\n"
            "        return f(*a)\n"
            "    return inner\n",
            namespace,
        )
        function = namespace["logged"](function)
    checks.check_minimize_quadratic(function)
    assert capsys.readouterr().out.startswith("✓ minimize_quadratic")
    assert ("quadratic_cost" in namespace) == (quadratic_cost != "never run")


def test_checking_again_and_again_prints_nothing_of_the_probes_tracing():
    """Learner B: the progress cell, after the check cell, printed TensorFlow's warning about
    frequent retracing, naming the probe's own function; and a graph-mode error quoted the
    traced argument's internal name ("given_0:0")."""
    import logging

    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = logging.getLogger("tensorflow")
    logger.addHandler(handler)
    try:
        for _ in range(4):  # a check cell and a progress cell, twice
            checks.check_quadratic_cost(tf_quadratic.quadratic_cost)
    finally:
        logger.removeHandler(handler)
    assert not [r for r in records if "retracing" in r.getMessage()]
    with pytest.raises(checks.CheckFailure) as failure:
        checks.check_quadratic_cost(cost_numpy_coefficients)
    assert "given_0" not in str(failure.value) and "symbolic tf.Tensor to" in str(failure.value)


def test_an_unwritten_helper_is_named_not_the_function_under_test():
    namespace = {"np": np}
    exec(
        "def normalize(Z):\n    raise NotImplementedError()\n"
        "def softmax(Z):\n    return normalize(np.exp(Z))\n",
        namespace,
    )
    with pytest.raises(checks.CheckFailure) as failure:
        checks.check_softmax(namespace["softmax"])
    message = str(failure.value)
    assert "got NotImplementedError (raised in normalize, which softmax calls)" in message
    assert "hint: normalize is not written yet" in message


def test_an_error_deep_in_numpy_is_charged_to_the_learners_function():
    def wrong(Z):
        return np.concatenate([Z, Z.T], axis=0)  # shapes that do not fit

    with pytest.raises(checks.CheckFailure, match=r"got ValueError \(raised in softmax\)"):
        checks.check_softmax(wrong)


def test_a_failing_message_summarizes_tuples_of_arrays_by_shape():
    def forgot_gamma(dZ_tilde, cache):
        return backward_forgot_gamma(dZ_tilde, cache)

    with pytest.raises(checks.CheckFailure) as failure:
        checks.check_batchnorm_backward(forgot_gamma)
    given = str(failure.value).splitlines()[1]
    assert given == (
        "  input dZ_tilde shape (3, 6), cache = (array (3, 6), array (3, 6), array (3, 1), "
        "array (3, 1), array (3, 1), 1e-08)"
    )
    assert len(str(failure.value).splitlines()) <= 7


# ---- progress: which exercises pass now --------------------------------------------------------


def test_progress_runs_every_check_of_the_notebook_quietly(notebook, capsys):
    namespace = notebook.user_ns
    namespace["softmax"] = softmax.softmax
    exec("def one_hot(labels, C):\n    return np.eye(C)[:, labels]", namespace)  # no ValueError
    exec("def cross_entropy_cost(Y_hat, Y):\n    raise NotImplementedError()", namespace)
    checks.progress("05_softmax_regression", namespace)
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "Your exercises in 05_softmax_regression, checked now:",
        "  ✓ softmax",
        '  ✗ one_hot — case "label equal to C"',
        "  ✗ cross_entropy_cost — not written yet (its cell still has raise NotImplementedError())",
        "  ✗ softmax_regression_step — not defined yet: run its exercise cell",
        "1 of 4 pass (2 of 8 points)",
    ]
    assert namespace["one_hot"].__name__ == "one_hot" and not stand_ins.is_stand_in(
        namespace["one_hot"]
    ), "progress puts nothing in place"


def test_progress_says_when_the_course_version_stands_in(notebook, capsys):
    namespace = notebook.user_ns
    exec("def sample_log_uniform(low, high, size, rng):\n    return rng.random(size)", namespace)
    with pytest.raises(checks.CheckFailure):
        checks.check_sample_log_uniform(namespace["sample_log_uniform"])
    namespace["sample_beta"] = sampling.sample_beta
    capsys.readouterr()
    checks.progress("02_appropriate_scale", namespace)
    out = capsys.readouterr().out
    assert "✗ sample_log_uniform — not passing yet: the cells after its check used" in out
    assert "  ✓ sample_beta\n1 of 2 pass (2 of 4 points)" in out


@pytest.mark.parametrize(
    ("notebook_name", "namespace", "error"),
    [("00_index", {}, ValueError), ("05_softmax_regression", [], TypeError)],
)
def test_progress_refuses_bad_arguments(notebook_name, namespace, error):
    with pytest.raises(error, match="notebook" if error is ValueError else "namespace"):
        checks.progress(notebook_name, namespace)


# ---- hidden cases: drawn when grading, passable by every correct implementation -------------


def _hidden_verdicts(name, function, seed):
    """The judge's message (None: passed) for each hidden case drawn with ``seed``, with the
    same round trip and stand-ins as in the grader."""
    import json

    from helpers.checks.cases import judge
    from helpers.checks.probes import observe

    exercise = checks.EXERCISES[name]
    table = exercise.cases()
    hidden = exercise.hidden_cases(np.random.default_rng(seed))
    assert hidden and all(case.hidden for case in hidden)
    with stand_ins.references_in_place(function, dict(table.uses)):
        return [
            judge(
                name,
                case,
                json.loads(json.dumps(observe(function, **case.request()))),
                table.arg_names,
            )
            for case in hidden
        ]


@pytest.mark.parametrize("name", EXERCISE_NAMES)
@pytest.mark.parametrize("seed", range(3))
def test_the_reference_and_every_correct_alternative_pass_the_hidden_cases(name, seed):
    correct = [r.function for r in RIGHT if r.exercise == name]
    for function in (REFERENCES[name], *correct):
        assert _hidden_verdicts(name, function, seed) == [None] * len(
            checks.EXERCISES[name].hidden_cases(np.random.default_rng(seed))
        ), function.__name__


def test_a_hidden_failure_is_explained_without_its_expected_value():
    def shifted(Z):  # right on the public examples' shapes, wrong values
        return softmax.softmax(Z) + 0.125

    messages = [m for m in _hidden_verdicts("softmax", shifted, 0) if m]
    assert messages
    for message in messages:
        assert message.startswith('✗ softmax — hidden case "')
        assert "expected value is not shown" in message and "expected" not in message.replace(
            "expected value is not shown", ""
        )
        assert "instead of" not in message and "0.125" not in message


def test_a_lookup_table_of_the_public_cases_fails_the_hidden_ones():
    table = {round(float(case.args[0].sum()), 3): softmax.softmax(case.args[0])
             for case in checks.EXERCISES["softmax"].cases().cases}  # fmt: skip

    def lookup(Z):
        return table[round(float(Z.sum()), 3)]

    checks.check_softmax(lookup)  # the notebook's check cannot tell
    assert all(_hidden_verdicts("softmax", lookup, seed) != [None, None] for seed in range(3))
