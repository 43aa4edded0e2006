"""Each check passes the reference and a different-but-correct version, and rejects the
mistakes students really make with a message that names the case and gives the right hint."""

import itertools

import numpy as np
import pytest

from helpers import batchnorm, checks, sampling, search, softmax, tf_digits, tf_quadratic, tuning
from helpers.checks import stand_ins

# ---- softmax -------------------------------------------------------------------------------


def softmax_naive(Z):
    T = np.exp(Z)
    return T / T.sum(axis=0, keepdims=True)


def softmax_wrong_axis(Z):
    T = np.exp(Z - Z.max(axis=1, keepdims=True))
    return T / T.sum(axis=1, keepdims=True)


def softmax_global_max(Z):
    T = np.exp(Z - Z.max())
    return T / T.sum(axis=0, keepdims=True)


def softmax_whole_matrix(Z):
    T = np.exp(Z - Z.max(axis=0))
    return T / T.sum()


def softmax_no_return(Z):
    np.exp(Z) / np.exp(Z).sum(axis=0)


def softmax_log_sum_exp(Z):  # correct, written differently
    top = Z.max(axis=0)
    return np.exp(Z - (top + np.log(np.exp(Z - top).sum(axis=0))))


# ---- one_hot -------------------------------------------------------------------------------


def one_hot_rows(labels, C):
    return np.eye(C)[labels]


def one_hot_inferred_C(labels, C):
    return np.eye(labels.max() + 1)[:, labels]


def one_hot_unchecked(labels, C):
    return np.eye(C)[:, labels]


def one_hot_by_comparison(labels, C):  # correct, written differently
    labels = np.asarray(labels)
    if np.any((labels < 0) | (labels >= C)):
        raise ValueError("label out of range")
    return (np.arange(C)[:, None] == labels[None, :]).astype(float)


# ---- cross_entropy_cost ----------------------------------------------------------------------


def cost_no_mean(Y_hat, Y):
    return float(-np.sum(Y * np.log(Y_hat)))


def cost_mean_of_all_entries(Y_hat, Y):
    return float(-np.mean(Y * np.log(Y_hat)))


def cost_no_minus(Y_hat, Y):
    return float(np.sum(Y * np.log(Y_hat)) / Y.shape[1])


def cost_binary_formula(Y_hat, Y):
    return float(-np.sum(Y * np.log(Y_hat) + (1 - Y) * np.log(1 - Y_hat)) / Y.shape[1])


def cost_as_array(Y_hat, Y):
    return -np.sum(Y * np.log(Y_hat), axis=0, keepdims=True) / Y.shape[1]


def cost_true_class_only(Y_hat, Y):  # correct, written differently
    return float(-np.mean(np.log(Y_hat[Y.argmax(axis=0), np.arange(Y.shape[1])])))


# ---- softmax_regression_step -----------------------------------------------------------------


def _forward(W, b, X):
    return softmax.softmax(W @ X + b)


def step_wrong_sign(W, b, X, Y, learning_rate):
    Y_hat = _forward(W, b, X)
    dZ = Y - Y_hat
    m = X.shape[1]
    cost = softmax.cross_entropy_cost(Y_hat, Y)
    return W - learning_rate * dZ @ X.T / m, b - learning_rate * dZ.mean(1, keepdims=True), cost


def step_no_one_over_m(W, b, X, Y, learning_rate):
    Y_hat = _forward(W, b, X)
    dZ = Y_hat - Y
    cost = softmax.cross_entropy_cost(Y_hat, Y)
    return W - learning_rate * dZ @ X.T, b - learning_rate * dZ.sum(1, keepdims=True), cost


def step_cost_after_update(W, b, X, Y, learning_rate):
    W, b, _ = softmax.softmax_regression_step(W, b, X, Y, learning_rate)
    return W, b, softmax.cross_entropy_cost(_forward(W, b, X), Y)


def step_in_place(W, b, X, Y, learning_rate):
    W_new, b_new, cost = softmax.softmax_regression_step(W, b, X, Y, learning_rate)
    W[...] = W_new
    b[...] = b_new
    return W, b, cost


def step_bias_lost_its_shape(W, b, X, Y, learning_rate):
    W, b, cost = softmax.softmax_regression_step(W, b, X, Y, learning_rate)
    return W, b.ravel(), cost


def step_with_einsum(W, b, X, Y, learning_rate):  # correct, written differently
    m = X.shape[1]
    Y_hat = _forward(W, b, X)
    cost = -np.einsum("ij,ij->", Y, np.log(Y_hat)) / m
    dZ = Y_hat - Y
    return (
        W - learning_rate * np.einsum("cm,nm->cn", dZ, X) / m,
        b - learning_rate * (dZ @ np.ones((m, 1)) / m),
        cost,
    )


# ---- grid and random search, zoom_in ----------------------------------------------------------


def grid_without_endpoint(objective, ranges, n_per_axis):
    axes = [np.linspace(lo, hi, n_per_axis, endpoint=False) for lo, hi in ranges.values()]
    points = [dict(zip(ranges, v, strict=True)) for v in itertools.product(*axes)]
    return [(p, objective(dict(p))) for p in points]


def grid_shared_dict(objective, ranges, n_per_axis):
    params, trials = {}, []
    for values in itertools.product(*[np.linspace(*r, n_per_axis) for r in ranges.values()]):
        params.update(zip(ranges, values, strict=True))
        trials.append((params, objective(params)))
    return trials


def grid_first_axis_only(objective, ranges, n_per_axis):
    name, (lo, hi) = next(iter(ranges.items()))
    trials = []
    for v in np.linspace(lo, hi, n_per_axis):
        params = {k: (v if k == name else (a + b) / 2) for k, (a, b) in ranges.items()}
        trials.append((params, objective(params)))
    return trials


def grid_best_only(objective, ranges, n_per_axis):
    return min(search.grid_search(objective, ranges, n_per_axis), key=lambda t: t[1])


def grid_recursive(objective, ranges, n_per_axis):  # correct, written differently
    names = list(ranges)

    def points(i):
        if i == len(names):
            yield {}
            return
        for v in np.linspace(*ranges[names[i]], n_per_axis):
            for rest in points(i + 1):
                yield {names[i]: v, **rest}

    return [(p, objective(p)) for p in points(0)]


def random_global_state(objective, ranges, n_trials, rng):
    trials = []
    for _ in range(n_trials):
        params = {k: np.random.uniform(lo, hi) for k, (lo, hi) in ranges.items()}  # noqa: NPY002
        trials.append((params, objective(params)))
    return trials


def random_unscaled(objective, ranges, n_trials, rng):
    trials = []
    for _ in range(n_trials):
        params = {k: lo + rng.random() for k, (lo, hi) in ranges.items()}
        trials.append((params, objective(params)))
    return trials


def random_sorted_by_score(objective, ranges, n_trials, rng):
    return sorted(search.random_search(objective, ranges, n_trials, rng), key=lambda t: t[1])


def random_normal(objective, ranges, n_trials, rng):
    trials = []
    for _ in range(n_trials):
        params = {
            k: float(rng.normal((lo + hi) / 2, (hi - lo) / 8)) for k, (lo, hi) in ranges.items()
        }
        trials.append((params, objective(params)))
    return trials


def random_one_draw_for_all(objective, ranges, n_trials, rng):  # every trial on the diagonal
    trials = []
    for _ in range(n_trials):
        u = rng.uniform()
        params = {k: lo + u * (hi - lo) for k, (lo, hi) in ranges.items()}
        trials.append((params, objective(params)))
    return trials


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


def random_all_at_once(objective, ranges, n_trials, rng):  # correct, written differently
    columns = {k: rng.uniform(lo, hi, size=n_trials) for k, (lo, hi) in ranges.items()}
    trials = []
    for i in range(n_trials):
        params = {k: float(v[i]) for k, v in columns.items()}
        trials.append((params, objective(params)))
    return trials


def zoom_cut_at_edges(ranges, center, factor):
    out = {}
    for k, (lo, hi) in ranges.items():
        half = factor * (hi - lo) / 2
        out[k] = (max(center[k] - half, lo), min(center[k] + half, hi))
    return out


def zoom_full_width_each_side(ranges, center, factor):
    out = {}
    for k, (lo, hi) in ranges.items():
        w = factor * (hi - lo)
        start = min(max(center[k] - w, lo), hi - 2 * w)
        out[k] = (start, start + 2 * w)
    return out


def zoom_in_place(ranges, center, factor):
    for k, (lo, hi) in ranges.items():
        w = factor * (hi - lo)
        start = min(max(center[k] - w / 2, lo), hi - w)
        ranges[k] = (start, start + w)
    return ranges


def zoom_around_middle(ranges, center, factor):
    return search.zoom_in(ranges, {k: (lo + hi) / 2 for k, (lo, hi) in ranges.items()}, factor)


def zoom_with_clip(ranges, center, factor):  # correct, written differently
    out = {}
    for k, (lo, hi) in ranges.items():
        w = factor * (hi - lo)
        start = float(np.clip(center[k] - w / 2, lo, hi - w))
        out[k] = [start, start + w]
    return out


# ---- sampling on a log scale -----------------------------------------------------------------


def log_uniform_linear(low, high, size, rng):
    if low <= 0 or high <= low:
        raise ValueError("bad range")
    return rng.uniform(low, high, size)


def log_uniform_natural_log(low, high, size, rng):
    if low <= 0 or high <= low:
        raise ValueError("bad range")
    return 10 ** rng.uniform(np.log(low), np.log(high), size)


def log_uniform_normal_exponent(low, high, size, rng):
    if low <= 0 or high <= low:
        raise ValueError("bad range")
    a, b = np.log10(low), np.log10(high)
    return 10 ** np.clip(rng.normal((a + b) / 2, (b - a) / 4, size), a, b)


def log_uniform_unchecked(low, high, size, rng):
    with np.errstate(divide="ignore"):
        return 10 ** rng.uniform(np.log10(low), np.log10(high), size)


def log_uniform_global_state(low, high, size, rng):
    if low <= 0 or high <= low:
        raise ValueError("bad range")
    return 10 ** np.random.uniform(np.log10(low), np.log10(high), size)  # noqa: NPY002


def log_uniform_by_exp(low, high, size, rng):  # correct, written differently
    if not 0 < low < high:
        raise ValueError("need 0 < low < high")
    return np.exp(rng.uniform(np.log(low), np.log(high), size))


def beta_uniform(low, high, size, rng):
    if not 0 < low < high < 1:
        raise ValueError("bad range")
    return rng.uniform(low, high, size)


def beta_log_uniform_itself(low, high, size, rng):
    if not 0 < low < high < 1:
        raise ValueError("bad range")
    return sample_log_uniform(low, high, size, rng)


def beta_reverse_log(low, high, size, rng):
    if not 0 < low < high < 1:
        raise ValueError("bad range")
    return low + high - sample_log_uniform(low, high, size, rng)


def beta_unchecked(low, high, size, rng):
    return 1 - 10 ** rng.uniform(np.log10(1 - high), np.log10(1 - low), size)


def beta_through_log_uniform(low, high, size, rng):  # correct, written differently
    if not 0 < low < high < 1:
        raise ValueError("need 0 < low < high < 1")
    return 1 - sample_log_uniform(1 - high, 1 - low, size, rng)


# ---- batch norm ----------------------------------------------------------------------------


def _forward_with(Z, gamma, beta, eps, *, axis=1, ddof=0, eps_outside=False):
    mu = Z.mean(axis=axis, keepdims=True)
    var = Z.var(axis=axis, ddof=ddof, keepdims=True)
    std = np.sqrt(var) + eps if eps_outside else np.sqrt(var + eps)
    Z_norm = (Z - mu) / std
    return gamma * Z_norm + beta, (Z, Z_norm, mu, var, gamma, eps)


def forward_wrong_axis(Z, gamma, beta, eps=1e-8):
    return _forward_with(Z, gamma, beta, eps, axis=0)


def forward_sample_variance(Z, gamma, beta, eps=1e-8):
    return _forward_with(Z, gamma, beta, eps, ddof=1)


def forward_eps_outside(Z, gamma, beta, eps=1e-8):
    return _forward_with(Z, gamma, beta, eps, eps_outside=True)


def forward_fixed_eps(Z, gamma, beta, eps=1e-8):
    return _forward_with(Z, gamma, beta, 1e-8)


def forward_no_eps(Z, gamma, beta, eps=1e-8):
    mu = Z.mean(axis=1, keepdims=True)
    Z_norm = (Z - mu) / Z.std(axis=1, keepdims=True)
    return gamma * Z_norm + beta, (Z, Z_norm, mu, Z.var(axis=1, keepdims=True), gamma, eps)


def forward_shift_then_scale(Z, gamma, beta, eps=1e-8):
    cache = _forward_with(Z, gamma, beta, eps)[1]
    return gamma * (cache[1] + beta), cache


def forward_only_z_tilde(Z, gamma, beta, eps=1e-8):
    return _forward_with(Z, gamma, beta, eps)[0]


def forward_cache_dict(Z, gamma, beta, eps=1e-8):
    Z_tilde, (Z, Z_norm, mu, var, gamma, eps) = _forward_with(Z, gamma, beta, eps)
    return Z_tilde, {"Z": Z, "Z_norm": Z_norm, "mu": mu, "var": var, "gamma": gamma, "eps": eps}


def forward_by_loops(Z, gamma, beta, eps=1e-8):  # correct, written differently
    Z_norm = np.empty_like(Z)
    mu, var = np.empty((Z.shape[0], 1)), np.empty((Z.shape[0], 1))
    for i, row in enumerate(Z):
        mu[i, 0] = row.sum() / row.size
        var[i, 0] = ((row - mu[i, 0]) ** 2).sum() / row.size
        Z_norm[i] = (row - mu[i, 0]) / np.sqrt(var[i, 0] + eps)
    return gamma * Z_norm + beta, (Z, Z_norm, mu, var, gamma, eps)


def backward_mu_var_constant(dZ_tilde, cache):
    _, Z_norm, _, var, gamma, eps = cache
    dZ = dZ_tilde * gamma / np.sqrt(var + eps)
    return dZ, (dZ_tilde * Z_norm).sum(axis=1, keepdims=True), dZ_tilde.sum(axis=1, keepdims=True)


def backward_forgot_gamma(dZ_tilde, cache):
    Z, Z_norm, _, var, gamma, eps = cache
    return backward_chain_rule(dZ_tilde, (Z, Z_norm, _, var, np.ones_like(gamma), eps))[0], *(
        backward_chain_rule(dZ_tilde, cache)[1:]
    )


def backward_both_mistakes(dZ_tilde, cache):
    _, Z_norm, _, var, _, eps = cache
    dZ = dZ_tilde / np.sqrt(var + eps)
    return dZ, (dZ_tilde * Z_norm).sum(axis=1, keepdims=True), dZ_tilde.sum(axis=1, keepdims=True)


def backward_mean_not_sum(dZ_tilde, cache):
    dZ, dgamma, dbeta = batchnorm.batchnorm_backward(dZ_tilde, cache)
    m = dZ_tilde.shape[1]
    return dZ, dgamma / m, dbeta / m


def backward_flat_dgamma(dZ_tilde, cache):
    dZ, dgamma, dbeta = batchnorm.batchnorm_backward(dZ_tilde, cache)
    return dZ, dgamma.ravel(), dbeta.ravel()


def backward_no_eps(dZ_tilde, cache):
    return batchnorm.batchnorm_backward(dZ_tilde, (*cache[:5], 1e-300))


def backward_chain_rule(dZ_tilde, cache):  # correct: the step-by-step computation graph
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


def running_pytorch_form(running_mu, running_var, mu, var, momentum):
    if not 0 <= momentum <= 1:
        raise ValueError("momentum")
    return (1 - momentum) * running_mu + momentum * mu, (
        1 - momentum
    ) * running_var + momentum * var


def running_in_place(running_mu, running_var, mu, var, momentum):
    if not 0 <= momentum <= 1:
        raise ValueError("momentum")
    running_mu *= momentum
    running_mu += (1 - momentum) * mu
    running_var *= momentum
    running_var += (1 - momentum) * var
    return running_mu, running_var


def running_unchecked(running_mu, running_var, mu, var, momentum):
    return momentum * running_mu + (1 - momentum) * mu, momentum * running_var + (
        1 - momentum
    ) * var


def running_swapped(running_mu, running_var, mu, var, momentum):
    return batchnorm.update_running_averages(running_var, running_mu, var, mu, momentum)


def running_by_difference(running_mu, running_var, mu, var, momentum):  # correct, another form
    if not 0 <= momentum <= 1:
        raise ValueError("momentum must be in [0, 1]")
    return running_mu + (1 - momentum) * (mu - running_mu), running_var + (1 - momentum) * (
        var - running_var
    )


def inference_batch_statistics(Z, gamma, beta, running_mu, running_var, eps=1e-8):
    return batchnorm.batchnorm_forward(Z, gamma, beta, eps)[0]


def inference_std_for_var(Z, gamma, beta, running_mu, running_var, eps=1e-8):
    return gamma * (Z - running_mu) / (running_var + eps) + beta


def inference_fixed_eps(Z, gamma, beta, running_mu, running_var, eps=1e-8):
    return gamma * (Z - running_mu) / np.sqrt(running_var + 1e-8) + beta


def inference_no_eps(Z, gamma, beta, running_mu, running_var, eps=1e-8):
    return gamma * (Z - running_mu) / np.sqrt(running_var) + beta


def inference_folded(Z, gamma, beta, running_mu, running_var, eps=1e-8):  # correct, folded
    scale = gamma / np.sqrt(running_var + eps)
    return scale * Z + (beta - scale * running_mu)


# ---- TensorFlow on a quadratic -------------------------------------------------------------


def cost_through_numpy(w, coefficients):
    c = np.asarray(coefficients, dtype=float)
    return c[0] * w.numpy() ** 2 + c[1] * w.numpy() + c[2]


def cost_hard_coded(w, coefficients):
    return w**2 - 12 * w + 36


def cost_reversed(w, coefficients):
    return coefficients[2] * w**2 + coefficients[1] * w + coefficients[0]


def cost_by_unstacking(w, coefficients):  # correct, written differently
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


def minimize_by_assign_sub(coefficients, learning_rate, num_steps):  # correct, no optimizer
    return float(_descend(coefficients, learning_rate, num_steps).numpy())


def minimize_one_step_too_many(coefficients, learning_rate, num_steps):
    return float(_descend(coefficients, learning_rate, num_steps, extra=1).numpy())


def minimize_from_one(coefficients, learning_rate, num_steps):
    return float(_descend(coefficients, learning_rate, num_steps, start=1.0).numpy())


def minimize_returns_the_variable(coefficients, learning_rate, num_steps):
    return _descend(coefficients, learning_rate, num_steps)


def minimize_fixed_rate(coefficients, learning_rate, num_steps):
    return float(_descend(coefficients, 0.1, num_steps).numpy())


_kept = {}


def minimize_keeps_w(coefficients, learning_rate, num_steps):  # one w for every call
    import tensorflow as tf

    w = _kept.setdefault("w", tf.Variable(0.0))
    for _ in range(num_steps):
        with tf.GradientTape() as tape:
            J = tf_quadratic.quadratic_cost(w, coefficients)
        w.assign_sub(learning_rate * tape.gradient(J, w))
    return float(w.numpy())


def minimize_fixed_cost(coefficients, learning_rate, num_steps):
    return float(_descend(coefficients, learning_rate, num_steps, cost=cost_hard_coded).numpy())


# ---- the digits model of lesson 07 ------------------------------------------------------------


def model_functional(hidden_units=(128, 128)):  # correct, written differently
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


def model_relu_before_bn(hidden_units=(128, 128)):
    import keras

    return _model(
        hidden_units,
        lambda n: [
            keras.layers.Dense(n, use_bias=False, activation="relu"),
            keras.layers.BatchNormalization(),
        ],
    )


def model_with_bias(hidden_units=(128, 128)):
    import keras

    return _model(
        hidden_units,
        lambda n: [keras.layers.Dense(n), keras.layers.BatchNormalization(), keras.layers.ReLU()],
    )


def model_softmax_output(hidden_units=(128, 128)):
    return _model(hidden_units, _bn_block, output_activation="softmax")


def _bn_block(n):
    import keras

    return [
        keras.layers.Dense(n, use_bias=False),
        keras.layers.BatchNormalization(),
        keras.layers.ReLU(),
    ]


def model_compiled(hidden_units=(128, 128)):
    return _model(hidden_units, _bn_block, compiled=True)


def model_always_two(hidden_units=(128, 128)):
    return _model((hidden_units[0], hidden_units[1]), _bn_block)  # two blocks written out


def _per_example(logits, labels):
    import keras

    return keras.losses.categorical_crossentropy(labels, logits, from_logits=True)


def total_loss_by_log_softmax(logits, labels):  # correct, written differently
    import tensorflow as tf

    return -tf.reduce_sum(tf.cast(labels, tf.float32) * tf.nn.log_softmax(logits, axis=1))


def total_loss_mean(logits, labels):
    import tensorflow as tf

    return tf.reduce_mean(_per_example(logits, labels))


def total_loss_not_from_logits(logits, labels):
    import keras
    import tensorflow as tf

    return tf.reduce_sum(keras.losses.categorical_crossentropy(labels, logits))


def total_loss_swapped(logits, labels):
    import tensorflow as tf

    return tf.reduce_sum(_per_example(labels, logits))


def total_loss_transposed(logits, labels):  # the course's column layout, kept by habit
    import tensorflow as tf

    return tf.reduce_sum(_per_example(tf.transpose(logits), tf.transpose(labels)))


def total_loss_naive_softmax(logits, labels):
    import tensorflow as tf

    p = tf.exp(logits) / tf.reduce_sum(tf.exp(logits), axis=1, keepdims=True)
    return -tf.reduce_sum(labels * tf.math.log(p))


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


def step_with_keras_loss(model, optimizer, x, y):  # correct, written differently
    import keras
    import tensorflow as tf

    with tf.GradientTape() as tape:
        logits = model(x, training=True)
        mean = keras.losses.CategoricalCrossentropy(from_logits=True)(y, logits)
    gradients = tape.gradient(mean, model.trainable_variables)
    optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
    return mean * tf.cast(tf.shape(x)[0], tf.float32)


def step_inference_mode(model, optimizer, x, y):
    return _step(model, optimizer, x, y, training=False)


def step_on_total(model, optimizer, x, y):  # the course's own loop differentiates the total
    return _step(model, optimizer, x, y, divide=False)


def step_returns_mean(model, optimizer, x, y):
    return _step(model, optimizer, x, y, returns="mean")


def step_returns_float(model, optimizer, x, y):
    return _step(model, optimizer, x, y, returns="float")


def step_not_applied(model, optimizer, x, y):
    return _step(model, optimizer, x, y, apply=False)


def step_fixed_batch(model, optimizer, x, y):
    import tensorflow as tf

    with tf.GradientTape() as tape:
        total = tf_digits.compute_total_loss(model(x, training=True), y)
        mean = total / 8.0
    gradients = tape.gradient(mean, model.trainable_variables)
    optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
    return total


def step_int_batch_size(model, optimizer, x, y):
    import tensorflow as tf

    with tf.GradientTape() as tape:
        total = tf_digits.compute_total_loss(model(x, training=True), y)
        mean = total / tf.shape(x)[0]
    gradients = tape.gradient(mean, model.trainable_variables)
    optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
    return total


def step_divides_after_the_tape(model, optimizer, x, y):
    import tensorflow as tf

    with tf.GradientTape() as tape:
        total = tf_digits.compute_total_loss(model(x, training=True), y)
    mean = total / tf.cast(tf.shape(x)[0], total.dtype)
    gradients = tape.gradient(mean, model.trainable_variables)
    optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
    return total


def step_own_adam(model, optimizer, x, y):
    import keras

    return _step(model, keras.optimizers.Adam(learning_rate=0.01), x, y)


# ---- suggest_hyperparameters (08) -----------------------------------------------------------


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


def suggest_beta_uniform(trial):
    return _space(trial, beta_log=False)


def suggest_rate_uniform(trial):
    return _space(trial, rate_log=False)


def suggest_units_uniform(trial):
    return _space(trial, units_log=False)


def suggest_unconverted(trial):
    return _space(trial, convert=False)


def suggest_wrong_bound(trial):
    return _space(trial, units_high=128)


def suggest_float_batch(trial):
    return _space(trial) | {"batch_size": float(2 ** trial.params["log2_batch_size"])}


def suggest_other_names(trial):
    rate = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
    return {"learning_rate": rate, "beta1": 0.9, "hidden_units": 64, "batch_size": 32}


def suggest_in_another_order(trial):  # correct, written differently
    k = trial.suggest_int("log2_batch_size", 4, 7)
    units = trial.suggest_int("hidden_units", 16, 256, log=True)
    beta1 = 1.0 - trial.suggest_float("one_minus_beta1", 0.001, 0.1, log=True)
    rate = trial.suggest_float("learning_rate", 0.0001, 0.1, log=True)
    return dict(batch_size=1 << k, hidden_units=units, beta1=beta1, learning_rate=rate)


sample_log_uniform = sampling.sample_log_uniform


CASES = {
    "build_model": (
        checks.check_build_model,
        tf_digits.build_model,
        [model_functional],
        [
            (model_relu_before_bn, "the default", "Dense(128, no bias, relu) → BatchNormalization"),
            (model_with_bias, "the default", "Dense(units, use_bias=False)"),
            (model_softmax_output, "the default", "Dense(10, softmax)"),
            (model_compiled, "the default", "an uncompiled model"),
            (model_always_two, "one hidden layer", "len(hidden_units)"),
        ],
    ),
    "compute_total_loss": (
        checks.check_compute_total_loss,
        tf_digits.compute_total_loss,
        [total_loss_by_log_softmax],
        [
            (total_loss_mean, "3 examples", "this is the mean"),
            (total_loss_not_from_logits, "3 examples", "from_logits=True"),
            (total_loss_swapped, "3 examples", "from_logits=True"),
            (total_loss_transposed, "3 examples", "from_logits=True"),
            (total_loss_naive_softmax, "large logits", "overflows"),
            (total_loss_numpy, "3 examples", "a TensorFlow tensor"),
        ],
    ),
    "train_step": (
        checks.check_train_step,
        tf_digits.train_step,
        [step_with_keras_loss],
        [
            (step_inference_mode, "one Adam step", "training=True"),
            (step_on_total, "one Adam step", "divide it by the batch size"),
            (step_returns_mean, "one Adam step", "return the total"),
            (step_returns_float, "one Adam step", "a TensorFlow tensor"),
            (step_not_applied, "one Adam step", "the weights unchanged"),
            (step_fixed_batch, "a smaller last batch", "tf.shape(x)[0]"),
            (step_own_adam, "one plain SGD step", "use the optimizer you are given"),
            (step_int_batch_size, "one Adam step", "tf.cast(tf.shape(x)[0], total.dtype)"),
            (step_divides_after_the_tape, "one Adam step", "compute total / batch size inside"),
        ],
    ),
    "quadratic_cost": (
        checks.check_quadratic_cost,
        tf_quadratic.quadratic_cost,
        [cost_by_unstacking],
        [
            (cost_through_numpy, "w = 2", "a TensorFlow tensor"),
            (cost_hard_coded, "coefficients [2, 3, -4]", "do not hard-code"),
            (cost_reversed, "w = 2", "coefficients[0] * w**2"),
        ],
    ),
    "minimize_quadratic": (
        checks.check_minimize_quadratic,
        tf_quadratic.minimize_quadratic,
        [minimize_by_assign_sub],
        [
            (minimize_one_step_too_many, "3 steps", "exactly num_steps steps"),
            (minimize_from_one, "3 steps", "start at w = 0"),
            (minimize_returns_the_variable, "3 steps", "float(w.numpy())"),
            (minimize_fixed_rate, "the learning rate is used", "learning_rate=learning_rate"),
            (minimize_fixed_cost, "other coefficients", "use the coefficients argument"),
            (minimize_keeps_w, "3 steps", "fresh on every call"),
        ],
    ),
    "batchnorm_forward": (
        checks.check_batchnorm_forward,
        batchnorm.batchnorm_forward,
        [forward_by_loops],
        [
            (forward_wrong_axis, "worked example", "axis=1"),
            (forward_sample_variance, "worked example", "(divide by m)"),
            (forward_eps_outside, "eps = 1", "not np.sqrt(var) + eps"),
            (forward_fixed_eps, "eps = 1", "use the eps argument"),
            (forward_no_eps, "eps = 1", "use the eps argument"),
            (forward_shift_then_scale, "worked example", "gamma * Z_norm + beta"),
            (forward_only_z_tilde, "worked example", "a tuple (Z_tilde, cache)"),
            (forward_cache_dict, "the cache", "cache = (Z, Z_norm, mu, var, gamma, eps)"),
        ],
    ),
    "batchnorm_backward": (
        checks.check_batchnorm_backward,
        batchnorm.batchnorm_backward,
        [backward_chain_rule],
        [
            (backward_mu_var_constant, "dZ (3 units", "treats mu and var as constants"),
            (backward_forgot_gamma, "dZ (3 units", "the one for γ = 1"),
            (backward_both_mistakes, "dZ (3 units", "two things are missing"),
            (backward_mean_not_sum, "dgamma and dbeta", "summed over the examples"),
            (backward_flat_dgamma, "dgamma and dbeta", "shape (3, 1)"),
            (backward_no_eps, "eps = 0.5", "sqrt(var + eps)"),
        ],
    ),
    "update_running_averages": (
        checks.check_update_running_averages,
        batchnorm.update_running_averages,
        [running_by_difference],
        [
            (running_pytorch_form, "momentum 0.9", "momentum * running + (1 - momentum)"),
            (running_in_place, "momentum 0.9", "modified in place"),
            (running_unchecked, "momentum 1.5", "raise ValueError"),
            (running_swapped, "momentum 0.9", "new_running_mu ="),
        ],
    ),
    "batchnorm_inference": (
        checks.check_batchnorm_inference,
        batchnorm.batchnorm_inference,
        [inference_folded],
        [
            (inference_batch_statistics, "with the running averages", "not the batch's own"),
            (inference_std_for_var, "with the running averages", "np.sqrt(running_var + eps)"),
            (inference_fixed_eps, "eps = 1", "use the eps argument"),
            (inference_no_eps, "eps = 1", "use the eps argument"),
        ],
    ),
    "grid_search": (
        checks.check_grid_search,
        search.grid_search,
        [grid_recursive],
        [
            (grid_without_endpoint, "2 hyperparameters", "both ends included"),
            (grid_shared_dict, "2 hyperparameters", "a new params dict"),
            (grid_first_axis_only, "2 hyperparameters", "a list of 9 (params, score)"),
            (grid_best_only, "2 hyperparameters", "a list of 9 (params, score) trials"),
        ],
    ),
    "random_search": (
        checks.check_random_search,
        search.random_search,
        [random_all_at_once],
        [
            (random_global_state, "the given generator", "not from np.random"),
            (random_unscaled, "2,000 trials cover each range evenly", "rng.random() alone"),
            (random_sorted_by_score, "25 trials", "order you evaluated them"),
            (random_normal, "2,000 trials cover each range evenly", "25 % in each quarter"),
            (random_one_draw_for_all, "25 trials", "puts every trial on the diagonal"),
            (random_mirrored, "2,000 trials", "drawn independently"),
            (random_folded, "2,000 trials", "drawn independently"),
        ],
    ),
    "zoom_in": (
        checks.check_zoom_in,
        search.zoom_in,
        [zoom_with_clip],
        [
            (zoom_cut_at_edges, "centre near the low end", "keep its full width"),
            (zoom_full_width_each_side, "centre well inside", "center - width/2"),
            (zoom_in_place, "centre well inside", "modified in place"),
            (zoom_around_middle, "centre well inside", "center - width/2"),
        ],
    ),
    "sample_log_uniform": (
        checks.check_sample_log_uniform,
        sampling.sample_log_uniform,
        [log_uniform_by_exp],
        [
            (log_uniform_linear, "each decade gets a quarter", "10 ** r"),
            (log_uniform_natural_log, "each decade gets a quarter", "base 10 both ways"),
            (log_uniform_normal_exponent, "each decade gets a quarter", "rng.uniform(log10"),
            (log_uniform_unchecked, "low = 0", "raise ValueError when low <= 0"),
            (log_uniform_global_state, "the given generator", "not from np.random"),
        ],
    ),
    "sample_beta": (
        checks.check_sample_beta,
        sampling.sample_beta,
        [beta_through_log_uniform],
        [
            (beta_uniform, "spread evenly over 2 decades", "1 − high, 1 − low"),
            (beta_log_uniform_itself, "spread evenly over 2 decades", "1 − high, 1 − low"),
            (beta_reverse_log, "spread evenly over 2 decades", "1 − high, 1 − low"),
            (beta_unchecked, "high = 1", "raise ValueError"),
        ],
    ),
    "softmax": (
        checks.check_softmax,
        softmax.softmax,
        [softmax_log_sum_exp],
        [
            (softmax_naive, "large logits", "subtract each column's maximum"),
            (softmax_wrong_axis, "worked example", "axis=0"),
            (softmax_global_max, "very different scales", "not the maximum of the whole"),
            (softmax_whole_matrix, "5 examples, one per column", "normalize each column"),
            (softmax_no_return, "worked example", "None (is a `return` missing?)"),
        ],
    ),
    "one_hot": (
        checks.check_one_hot,
        softmax.one_hot,
        [one_hot_by_comparison],
        [
            (one_hot_rows, "labels [1, 0, 3]", "(C, m), not (m, C)"),
            (one_hot_inferred_C, "C larger than the largest label", "not labels.max() + 1"),
            (one_hot_unchecked, "label equal to C", "raise ValueError"),
        ],
    ),
    "cross_entropy_cost": (
        checks.check_cross_entropy_cost,
        softmax.cross_entropy_cost,
        [cost_true_class_only],
        [
            (cost_no_mean, "4 examples", "divide by m"),
            (cost_mean_of_all_entries, "4 examples", "not by C*m"),
            (cost_no_minus, "4 examples", "the sign is flipped"),
            (cost_binary_formula, "4 examples", "divide by m"),
            (cost_as_array, "4 examples", "a single number"),
        ],
    ),
    "softmax_regression_step": (
        checks.check_softmax_regression_step,
        softmax.softmax_regression_step,
        [step_with_einsum],
        [
            (step_wrong_sign, "W and b after one step", "dZ = Y_hat - Y"),
            (step_no_one_over_m, "W and b after one step", "/ m"),
            (step_cost_after_update, "cost is the one before", "old W and b"),
            (step_in_place, "W and b after one step", "modified in place"),
            (step_bias_lost_its_shape, "W and b after one step", "shape (3, 1)"),
        ],
    ),
    "suggest_hyperparameters": (
        checks.check_suggest_hyperparameters,
        tuning.suggest_hyperparameters,
        [suggest_in_another_order],
        [
            (
                suggest_beta_uniform,
                "ranges and scales",
                "one_minus_beta1: float in [0.001, 0.1], log=True",
            ),
            (
                suggest_rate_uniform,
                "ranges and scales",
                "learning_rate: float in [0.0001, 0.1], log=True",
            ),
            (
                suggest_units_uniform,
                "ranges and scales",
                "hidden_units: int in [16, 256], log=True",
            ),
            (suggest_unconverted, "means β1 = 0.99", "β1 = 1 − one_minus_beta1"),
            (suggest_wrong_bound, "ranges and scales", "hidden_units: int in [16, 256], log=True"),
            (suggest_float_batch, "means β1 = 0.99", "batch_size = 32 (an int)"),
            (suggest_other_names, "means β1 = 0.99", "(these names)"),
        ],
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_reference_passes(name, capsys):
    check, reference, _, _ = CASES[name]
    check(reference)
    assert capsys.readouterr().out.startswith(f"✓ {name}: ")


@pytest.mark.parametrize(
    ("name", "correct"), [(n, f) for n, c in CASES.items() for f in c[2]], ids=lambda x: str(x)
)
def test_a_different_correct_implementation_passes(name, correct, capsys):
    CASES[name][0](correct)
    assert "checks passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("name", "wrong", "case", "says"),
    [(n, *w) for n, c in CASES.items() for w in c[3]],
    ids=lambda x: getattr(x, "__name__", str(x))[:30],
)
def test_a_plausible_mistake_is_rejected_with_a_helpful_message(name, wrong, case, says):
    with pytest.raises(checks.CheckFailure) as failure:
        CASES[name][0](wrong)
    message = str(failure.value)
    assert message.startswith(f"✗ {name} — case ")
    assert case in message.splitlines()[0]
    assert "expected" in message and "got" in message
    assert says in message
    assert "Traceback" not in message


@pytest.mark.parametrize("name", CASES)
def test_the_untouched_stub_fails_with_a_clear_message(name):
    def stub(*args):
        raise NotImplementedError()

    # named after the exercise, whatever the learner called the function
    expected = rf"NotImplementedError \(raised in {name}\)\n  hint: replace .* in {name} "
    with pytest.raises(checks.CheckFailure, match=expected):
        CASES[name][0](stub)


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("not_a_function", [None, 3, "softmax"])
def test_passing_something_other_than_a_function_is_explained(name, not_a_function):
    with pytest.raises(checks.CheckFailure, match="expected a function"):
        CASES[name][0](not_a_function)


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

    # re-running the check on the stand-in must not pass it
    with pytest.raises(checks.CheckFailure, match="run your exercise cell again"):
        checks.check_softmax(course)
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


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("seed", range(3))
def test_the_reference_and_every_correct_alternative_pass_the_hidden_cases(name, seed):
    _, reference, correct, _ = CASES[name]
    for function in (reference, *correct):
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
