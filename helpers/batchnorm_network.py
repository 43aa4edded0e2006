"""A NumPy multilayer perceptron with optional batch norm (notebooks 03 and 04).

Hidden layer ``l``: ``Z = W a_prev`` → batch norm (``gamma``, ``beta``) → ReLU, or without batch
norm ``Z = W a_prev + b`` → ReLU. The output layer is ``W a + b`` → softmax. One example per
column: ``X`` is ``(n_x, m)``, each ``Z`` is ``(n_units, m)``.

Lesson 03 trains it with and without batch norm; lesson 04 rebuilds the same network (same
seed, same result) and compares ways of normalizing at test time. Batch statistics are given as
a list with one ``(mu, var)`` pair per hidden layer, each of shape ``(n_units, 1)``.

Lesson 03 also trains a "noisy" batch-norm network, after Santurkar et al. (2018): random noise
added after every batch-norm layer (:func:`draw_bn_noise`), so that what the next layer
receives changes from step to step although batch norm is there.
"""

import numpy as np

from helpers.batchnorm import (
    batchnorm_backward,
    batchnorm_forward,
    batchnorm_inference,
    update_running_averages,
)
from helpers.softmax import cross_entropy_cost, one_hot, softmax

OPTIMIZERS = ("gd", "momentum", "adam")


def init_network(layer_sizes, *, batchnorm: bool, rng):
    """Return the parameters of a network with ``layer_sizes = (n_x, n_1, …, n_classes)``.

    He initialization for ``W``; ``gamma = 1``, ``beta = 0`` in batch-norm layers (the identity
    at the start), ``b = 0`` otherwise. Keys: ``W1, gamma1, beta1, …`` or ``W1, b1, …``.
    """
    sizes = [int(n) for n in layer_sizes]
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"layer_sizes needs >= 2 positive sizes, got {layer_sizes!r}")
    params = {}
    for l in range(1, len(sizes)):  # noqa: E741 - the course's layer index
        params[f"W{l}"] = rng.normal(0.0, np.sqrt(2.0 / sizes[l - 1]), (sizes[l], sizes[l - 1]))
        if batchnorm and l < len(sizes) - 1:
            params[f"gamma{l}"] = np.ones((sizes[l], 1))
            params[f"beta{l}"] = np.zeros((sizes[l], 1))
        else:
            params[f"b{l}"] = np.zeros((sizes[l], 1))
    return params


def _num_layers(params) -> int:
    return sum(1 for k in params if k.startswith("W"))


def uses_batchnorm(params) -> bool:
    return "gamma1" in params


def forward(params, X, *, stats=None, eps=1e-5, noise=None):
    """Return ``(logits, caches, batch_stats)``.

    With ``stats=None`` each batch-norm layer normalizes with the batch's own mean and variance
    (training mode); given a list of ``(mu, var)``, it uses those (inference mode).
    ``batch_stats`` lists the batch's own ``(mu, var)`` per batch-norm layer.
    ``noise``, one ``(scale, shift)`` pair per batch-norm layer (from :func:`draw_bn_noise`),
    replaces each layer's ``Z_tilde`` by ``scale * Z_tilde + shift`` before the activation.
    """
    L, bn = _num_layers(params), uses_batchnorm(params)
    if bn and stats is not None and len(stats) != L - 1:
        raise ValueError(f"stats needs one (mu, var) per hidden layer ({L - 1}), got {len(stats)}")
    if noise is not None and (not bn or len(noise) != L - 1):
        raise ValueError(
            f"noise needs a batch-norm network and one (scale, shift) per hidden layer ({L - 1})"
        )
    A, caches, batch_stats = np.asarray(X, dtype=float), [], []
    for l in range(1, L):  # noqa: E741
        A_prev, Z = A, params[f"W{l}"] @ A
        if bn:
            gamma, beta = params[f"gamma{l}"], params[f"beta{l}"]
            if stats is None:
                Z_in, bn_cache = batchnorm_forward(Z, gamma, beta, eps)
                batch_stats.append((bn_cache[2], bn_cache[3]))
            else:
                Z_in, bn_cache = batchnorm_inference(Z, gamma, beta, *stats[l - 1], eps), None
        else:
            Z_in, bn_cache = Z + params[f"b{l}"], None
        scale = None
        if noise is not None:
            scale, shift = noise[l - 1]
            Z_in = scale * Z_in + shift
        A = np.maximum(Z_in, 0.0)
        caches.append((A_prev, Z_in, bn_cache, scale))
    caches.append((A, None, None, None))
    return params[f"W{L}"] @ A + params[f"b{L}"], caches, batch_stats


def backward(params, logits, Y, caches):
    """Return the gradients (same keys as ``params``) of the mean cross-entropy cost."""
    L, grads = _num_layers(params), {}
    dZ = (softmax(logits) - Y) / Y.shape[1]
    A = caches[-1][0]
    grads[f"W{L}"], grads[f"b{L}"] = dZ @ A.T, dZ.sum(axis=1, keepdims=True)
    dA = params[f"W{L}"].T @ dZ
    for l in range(L - 1, 0, -1):  # noqa: E741
        A_prev, Z_in, bn_cache, scale = caches[l - 1]
        dZ_in = dA * (Z_in > 0)
        if scale is not None:  # back through the noise: Z_in = scale * Z_tilde + shift
            dZ_in = dZ_in * scale
        if bn_cache is None:
            dZ, grads[f"b{l}"] = dZ_in, dZ_in.sum(axis=1, keepdims=True)
        else:
            dZ, grads[f"gamma{l}"], grads[f"beta{l}"] = batchnorm_backward(dZ_in, bn_cache)
        grads[f"W{l}"] = dZ @ A_prev.T
        dA = params[f"W{l}"].T @ dZ
    return grads


def predict(params, X, stats=None, *, eps=1e-5):
    """Return the predicted class of each column of ``X``, shape ``(m,)``.

    ``stats`` are the per-layer ``(mu, var)`` to normalize with; ``None`` uses the statistics of
    ``X`` itself (training mode), which is only meaningful for a large batch.
    """
    return np.argmax(forward(params, X, stats=stats, eps=eps)[0], axis=0)


def population_statistics(params, X, *, eps=1e-5):
    """Return the exact ``(mu, var)`` of every batch-norm layer over all of ``X`` at once."""
    return forward(params, X, eps=eps)[2]


def draw_bn_noise(hidden, m, strength, rng):
    """Return one step's noise for the batch-norm layers: a list of ``(scale, shift)`` pairs.

    After Santurkar et al. (2018, "How does batch normalization help optimization?"): the noise
    has a non-zero mean and a non-unit spread that change at every step. For each unit a step
    draws a scale ``s ~ U(1 - strength/2, 1 + strength/2)`` and a shift ``c ~ U(-strength,
    strength)``; every example then gets ``scale = s`` and ``shift = c + (strength / 4) * xi``
    with its own ``xi ~ N(0, 1)``. Averaged over steps the scale is 1 and the shift 0, so the
    network can be used at test time without noise.

    Args:
        hidden: units per hidden layer. m: examples in the batch.
        strength: ``n`` above, in ``[0, 2)`` (below 2 every scale stays positive).
        rng: ``numpy.random.Generator``.

    Returns:
        ``[(scale, shift), ...]`` with ``scale`` of shape ``(n_units, 1)`` and ``shift`` of
        shape ``(n_units, m)``, one pair per hidden layer.
    """
    if isinstance(strength, bool) or not isinstance(strength, int | float | np.floating):
        raise TypeError(f"strength must be a number, got {type(strength).__name__}")
    if not 0 <= strength < 2:
        raise ValueError(f"strength must be in [0, 2), got {strength}")
    noise = []
    for n in hidden:
        scale = rng.uniform(1 - strength / 2, 1 + strength / 2, (n, 1))
        shift = rng.uniform(-strength, strength, (n, 1)) + strength / 4 * rng.normal(size=(n, m))
        noise.append((scale, shift))
    return noise


def train_network(
    X,
    labels,
    X_dev,
    labels_dev,
    *,
    hidden=(64, 64),
    batchnorm=True,
    learning_rate,
    epochs=20,
    batch_size=64,
    optimizer="gd",
    beta1=0.9,
    beta2=0.999,
    bn_momentum=0.9,
    eps=1e-5,
    rng,
    snapshot_every=None,
    keep_batch_statistics=False,
    drop_last=False,
    bn_noise=0.0,
    noise_rng=None,
):
    """Train the network with mini-batches and return its parameters and history.

    Args:
        X: ``(n_x, m)`` inputs; labels: ``(m,)`` integer classes.
        X_dev, labels_dev: where accuracy is measured after each epoch (with the running
            averages of the batch statistics, as at test time).
        hidden: units per hidden layer. batchnorm: whether hidden layers use batch norm.
        learning_rate: α > 0. epochs: passes over ``X``. batch_size: examples per step.
        optimizer: ``"gd"``, ``"momentum"`` (β1) or ``"adam"`` (β1, β2, with bias correction).
        bn_momentum: β of the running averages of ``mu`` and ``var``.
        eps: batch norm's ε.
        rng: ``numpy.random.Generator`` for the initial weights and the shuffling.
        drop_last: skip each epoch's last, smaller mini-batch (``m % batch_size`` examples,
            different ones every epoch since the order changes), as ``drop_remainder`` does in
            ``tf.data``.
        bn_noise: strength of the noise added after every batch-norm layer at every training
            step (:func:`draw_bn_noise`); 0 adds none. Prediction never adds it.
        noise_rng: ``numpy.random.Generator`` for that noise, needed when ``bn_noise > 0``; a
            generator of its own, so the same ``rng`` gives the same weights and batches with
            and without noise.

    Returns:
        dict with ``params``, ``running`` (the EWA statistics), ``last_batch`` (the last
        mini-batch's statistics), per epoch ``cost`` (mean mini-batch cost; ``inf`` once it
        diverged) and ``dev_accuracy``; if requested, ``snapshots`` (a list of dicts with
        ``step``, ``params``, a copy, and ``batch``, column indices into ``X``) and
        ``batch_statistics`` (one list per step of ``(mu, var)`` per batch-norm layer).
    """
    X, X_dev = np.asarray(X, dtype=float), np.asarray(X_dev, dtype=float)
    labels, labels_dev = np.asarray(labels), np.asarray(labels_dev)
    if X.ndim != 2 or labels.shape != (X.shape[1],):
        raise ValueError(f"X must be (n_x, m) and labels (m,), got {X.shape} and {labels.shape}")
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}")
    if not learning_rate > 0 or epochs < 0 or batch_size < 1:
        raise ValueError(
            f"need learning_rate > 0, epochs >= 0, batch_size >= 1; got "
            f"{learning_rate}, {epochs}, {batch_size}"
        )
    if snapshot_every is not None and (
        isinstance(snapshot_every, bool) or not isinstance(snapshot_every, int)
    ):
        raise TypeError(f"snapshot_every must be an int or None, got {snapshot_every!r}")
    if snapshot_every is not None and snapshot_every < 1:
        raise ValueError(f"snapshot_every must be >= 1, got {snapshot_every}")
    if drop_last and batch_size > X.shape[1]:
        raise ValueError(
            f"drop_last with batch_size {batch_size} > m = {X.shape[1]} trains nothing"
        )
    if bn_noise and not batchnorm:
        raise ValueError("bn_noise needs batchnorm=True: the noise goes after batch norm")
    if bn_noise and not isinstance(noise_rng, np.random.Generator):
        raise TypeError("bn_noise > 0 needs noise_rng, a numpy.random.Generator")
    n_classes = int(max(labels.max(), labels_dev.max())) + 1
    params = init_network((X.shape[0], *hidden, n_classes), batchnorm=batchnorm, rng=rng)
    Y = one_hot(labels, n_classes)
    velocity = {k: np.zeros_like(v) for k, v in params.items()}
    square = {k: np.zeros_like(v) for k, v in params.items()}
    running = [(np.zeros((n, 1)), np.ones((n, 1))) for n in hidden] if batchnorm else []
    last_batch, step, snapshots, kept_statistics = [], 0, [], []
    history = {"cost": [], "dev_accuracy": []}
    with np.errstate(all="ignore"):  # a diverging run is reported as inf, not as warnings
        for _ in range(epochs):
            order, costs = rng.permutation(X.shape[1]), []
            end = X.shape[1] - (X.shape[1] % batch_size if drop_last else 0)
            for first in range(0, end, batch_size):
                batch = order[first : first + batch_size]
                if snapshot_every is not None and step % snapshot_every == 0:
                    copied = {k: v.copy() for k, v in params.items()}
                    snapshots.append({"step": step, "params": copied, "batch": batch.copy()})
                noise = draw_bn_noise(hidden, batch.size, bn_noise, noise_rng) if bn_noise else None
                logits, caches, last_batch = forward(params, X[:, batch], eps=eps, noise=noise)
                if keep_batch_statistics:
                    kept_statistics.append(last_batch)
                costs.append(cross_entropy_cost(softmax(logits), Y[:, batch]))
                grads = backward(params, logits, Y[:, batch], caches)
                step += 1
                for k, g in grads.items():
                    if optimizer == "gd":
                        update = g
                    elif optimizer == "momentum":
                        velocity[k] = beta1 * velocity[k] + (1 - beta1) * g
                        update = velocity[k]
                    else:
                        velocity[k] = beta1 * velocity[k] + (1 - beta1) * g
                        square[k] = beta2 * square[k] + (1 - beta2) * g**2
                        v_hat, s_hat = (
                            velocity[k] / (1 - beta1**step),
                            square[k] / (1 - beta2**step),
                        )
                        update = v_hat / (np.sqrt(s_hat) + 1e-8)
                    params[k] = params[k] - learning_rate * update
                running = [
                    update_running_averages(*run, *now, bn_momentum)
                    for run, now in zip(running, last_batch, strict=True)
                ]
            cost = float(np.mean(costs))
            diverged = not np.isfinite(cost) or not all(
                np.all(np.isfinite(p)) for p in params.values()
            )
            history["cost"].append(float("inf") if diverged else cost)
            dev_accuracy = float(
                np.mean(predict(params, X_dev, running or None, eps=eps) == labels_dev)
            )
            history["dev_accuracy"].append(0.0 if diverged else dev_accuracy)
            if diverged:
                break
    result = {"params": params, "running": running, "last_batch": last_batch, **history}
    if snapshot_every is not None:
        result["snapshots"] = snapshots
    if keep_batch_statistics:
        result["batch_statistics"] = kept_statistics
    return result
