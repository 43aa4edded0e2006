"""Batch normalization (notebooks 03 and 04), the course's layout: one example per column.

``Z`` has shape ``(n_units, m)``; ``gamma``, ``beta``, ``mu`` and ``var`` have shape
``(n_units, 1)``. These are the reference implementations the exercise checks compare with.

The forward pass caches ``(Z, Z_norm, mu, var, gamma, eps)``; the backward pass reads that
tuple, so a learner's backward pass can be checked on caches made by this forward pass.
"""

import numpy as np


def _as_matrix(name: str, value) -> np.ndarray:
    array = np.asarray(value, dtype=float)
    if array.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_units, m), got shape {array.shape}")
    return array


def _as_column(name: str, value, n_units: int) -> np.ndarray:
    array = np.asarray(value, dtype=float)
    if array.shape != (n_units, 1):
        raise ValueError(f"{name} must have shape ({n_units}, 1), got {array.shape}")
    return array


def _check_eps(eps) -> float:
    if isinstance(eps, bool) or not isinstance(eps, int | float | np.floating) or not eps > 0:
        raise ValueError(f"eps must be a positive number, got {eps!r}")
    return float(eps)


def batchnorm_forward(Z, gamma, beta, eps=1e-8):
    """Normalize each unit (row) of ``Z`` over the mini-batch, then scale and shift it.

    Args:
        Z: pre-activations, shape ``(n_units, m)``.
        gamma, beta: learned scale and shift, shape ``(n_units, 1)``.
        eps: added to the variance so a unit that is constant over the batch does not divide
            by zero.

    Returns:
        ``(Z_tilde, cache)``: ``Z_tilde = gamma * Z_norm + beta`` of shape ``(n_units, m)`` with
        ``Z_norm = (Z - mu) / sqrt(var + eps)``, ``mu`` and ``var`` the per-unit mean and
        population variance (divided by ``m``); ``cache = (Z, Z_norm, mu, var, gamma, eps)``.
    """
    Z = _as_matrix("Z", Z)
    gamma, beta = _as_column("gamma", gamma, Z.shape[0]), _as_column("beta", beta, Z.shape[0])
    eps = _check_eps(eps)
    if Z.shape[1] == 0:
        raise ValueError("Z must hold at least one example (m >= 1)")
    mu = Z.mean(axis=1, keepdims=True)
    var = Z.var(axis=1, keepdims=True)  # population variance: the batch is all we normalize
    Z_norm = (Z - mu) / np.sqrt(var + eps)
    return gamma * Z_norm + beta, (Z, Z_norm, mu, var, gamma, eps)


def batchnorm_backward(dZ_tilde, cache):
    """Back-propagate through :func:`batchnorm_forward`.

    ``mu`` and ``var`` depend on every example of the batch, so each ``dZ[:, i]`` collects
    gradient from all ``m`` outputs, not only from ``Z_tilde[:, i]``.

    Args:
        dZ_tilde: gradient of the cost with respect to ``Z_tilde``, shape ``(n_units, m)``.
        cache: the ``cache`` returned by :func:`batchnorm_forward`.

    Returns:
        ``(dZ, dgamma, dbeta)`` with the shapes of ``Z``, ``gamma`` and ``beta``.
    """
    if not isinstance(cache, tuple) or len(cache) != 6:
        raise TypeError("cache must be the 6-tuple (Z, Z_norm, mu, var, gamma, eps)")
    Z, Z_norm, _mu, var, gamma, eps = cache
    dZ_tilde = _as_matrix("dZ_tilde", dZ_tilde)
    if dZ_tilde.shape != Z.shape:
        raise ValueError(f"dZ_tilde must have the shape of Z {Z.shape}, got {dZ_tilde.shape}")
    m = Z.shape[1]
    dbeta = dZ_tilde.sum(axis=1, keepdims=True)
    dgamma = (dZ_tilde * Z_norm).sum(axis=1, keepdims=True)
    dZ_norm = dZ_tilde * gamma
    # The three terms: the direct path, the path through mu, the path through var.
    dZ = (
        m * dZ_norm
        - dZ_norm.sum(axis=1, keepdims=True)
        - Z_norm * (dZ_norm * Z_norm).sum(axis=1, keepdims=True)
    ) / (m * np.sqrt(var + eps))
    return dZ, dgamma, dbeta


def update_running_averages(running_mu, running_var, mu, var, momentum):
    """Return the exponentially weighted averages after one more mini-batch.

    ``new = momentum * running + (1 - momentum) * batch``: the course's β is ``momentum``
    (Keras's name for it).

    Args:
        running_mu, running_var: current estimates, shape ``(n_units, 1)``.
        mu, var: this mini-batch's mean and variance, the same shape.
        momentum: β in ``[0, 1]``; 0 keeps only the last batch, 1 never updates.

    Returns:
        ``(new_running_mu, new_running_var)``; the arguments are not modified.
    """
    arrays = [np.asarray(v, dtype=float) for v in (running_mu, running_var, mu, var)]
    names = ("running_mu", "running_var", "mu", "var")
    for name, array in zip(names, arrays, strict=True):
        if array.shape != arrays[0].shape:
            raise ValueError(
                f"{name} has shape {array.shape}, but running_mu has {arrays[0].shape}"
            )
    if isinstance(momentum, bool) or not isinstance(momentum, int | float | np.floating):
        raise TypeError(f"momentum must be a number, got {type(momentum).__name__}")
    if not 0 <= momentum <= 1:
        raise ValueError(f"momentum must be in [0, 1], got {momentum}")
    running_mu, running_var, mu, var = arrays
    return (
        momentum * running_mu + (1 - momentum) * mu,
        momentum * running_var + (1 - momentum) * var,
    )


def batchnorm_inference(Z, gamma, beta, running_mu, running_var, eps=1e-8):
    """Batch norm at test time: normalize with the running estimates, not the batch's own.

    Each column is treated on its own, so a batch of one example works.

    Args:
        Z: ``(n_units, m)``; gamma, beta, running_mu, running_var: ``(n_units, 1)``.

    Returns:
        ``Z_tilde`` of shape ``(n_units, m)``.
    """
    Z = _as_matrix("Z", Z)
    n = Z.shape[0]
    gamma, beta = _as_column("gamma", gamma, n), _as_column("beta", beta, n)
    running_mu = _as_column("running_mu", running_mu, n)
    running_var = _as_column("running_var", running_var, n)
    if np.any(running_var < 0):
        raise ValueError("running_var must be >= 0")
    eps = _check_eps(eps)
    return gamma * (Z - running_mu) / np.sqrt(running_var + eps) + beta
