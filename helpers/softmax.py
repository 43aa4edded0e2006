"""Softmax regression (notebook 05), the course's layout: one example per column.

``Z``, ``Y`` and ``Y_hat`` have shape ``(C, m)``; ``X`` is ``(n_x, m)``; ``W`` is ``(C, n_x)``;
``b`` is ``(C, 1)``. These are the reference implementations the exercise checks compare with.
"""

import numpy as np


def _as_matrix(name: str, value) -> np.ndarray:
    array = np.asarray(value, dtype=float)
    if array.ndim != 2:
        raise ValueError(f"{name} must be 2-D with one example per column, got shape {array.shape}")
    return array


def softmax(Z):
    """Return the column-wise softmax of ``Z``: shape ``(C, m)``, each column sums to 1.

    Subtracting each column's maximum first changes nothing mathematically (softmax is
    invariant to adding a constant to a column) but keeps ``exp`` from overflowing.
    """
    Z = _as_matrix("Z", Z)
    T = np.exp(Z - Z.max(axis=0, keepdims=True))
    return T / T.sum(axis=0, keepdims=True)


def one_hot(labels, C: int):
    """Return the ``(C, m)`` one-hot matrix of integer ``labels`` of shape ``(m,)``.

    Raises:
        ValueError: a label is outside ``[0, C)``, or ``labels`` is not 1-D.
        TypeError: ``C`` is not an int or ``labels`` are not integers.
    """
    if isinstance(C, bool) or not isinstance(C, int | np.integer):
        raise TypeError(f"C must be an int, got {type(C).__name__}")
    if C < 1:
        raise ValueError(f"C must be >= 1, got {C}")
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must have shape (m,), got {labels.shape}")
    if labels.size and not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"labels must be integers, got dtype {labels.dtype}")
    outside = labels[(labels < 0) | (labels >= C)]
    if outside.size:
        raise ValueError(f"labels must be in [0, {C}), got {outside[0]}")
    Y = np.zeros((C, labels.size))
    Y[labels, np.arange(labels.size)] = 1.0
    return Y


def cross_entropy_cost(Y_hat, Y) -> float:
    """Return J = -(1/m) Σ_i Σ_j Y[j, i] log Y_hat[j, i] for ``(C, m)`` arrays."""
    Y_hat, Y = _as_matrix("Y_hat", Y_hat), _as_matrix("Y", Y)
    if Y_hat.shape != Y.shape:
        raise ValueError(f"Y_hat {Y_hat.shape} and Y {Y.shape} must have the same shape")
    m = Y.shape[1]
    # Only the true class's term survives in a one-hot Y; 0·log(0) must count as 0, not nan.
    log_terms = np.where(Y > 0, Y * np.log(np.where(Y > 0, Y_hat, 1.0)), 0.0)
    return float(-log_terms.sum() / m)


def softmax_regression_step(W, b, X, Y, learning_rate: float):
    """Return ``(W, b, cost)`` after one full-batch gradient-descent step of softmax regression.

    Args:
        W: ``(C, n_x)`` weights. b: ``(C, 1)`` biases.
        X: ``(n_x, m)`` inputs. Y: ``(C, m)`` one-hot labels.
        learning_rate: step size α ≥ 0.

    Returns:
        New ``W`` and ``b`` (the arguments are not modified) and the cost *before* the update.
    """
    W, b, X, Y = (_as_matrix(n, v) for n, v in (("W", W), ("b", b), ("X", X), ("Y", Y)))
    C, n_x = W.shape
    if b.shape != (C, 1) or X.shape[0] != n_x or Y.shape != (C, X.shape[1]):
        raise ValueError(
            f"shapes do not fit: W {W.shape}, b {b.shape} (want ({C}, 1)), X {X.shape} "
            f"(want ({n_x}, m)), Y {Y.shape} (want ({C}, m))"
        )
    if learning_rate < 0:
        raise ValueError(f"learning_rate must be >= 0, got {learning_rate}")
    m = X.shape[1]
    Y_hat = softmax(W @ X + b)
    cost = cross_entropy_cost(Y_hat, Y)
    dZ = Y_hat - Y  # softmax and cross-entropy together: the Jacobian collapses to Ŷ − Y
    dW = dZ @ X.T / m
    db = dZ.sum(axis=1, keepdims=True) / m
    return W - learning_rate * dW, b - learning_rate * db, cost


def accuracy(W, b, X, labels) -> float:
    """Return the fraction of columns of ``X`` whose most probable class equals ``labels``."""
    return float(np.mean(np.argmax(W @ X + b, axis=0) == np.asarray(labels)))


def train_softmax_regression(
    X,
    labels,
    X_dev,
    labels_dev,
    *,
    learning_rate,
    l2=0.0,
    epochs=10,
    batch_size=64,
    rng,
    start=None,
):
    """Train softmax regression with mini-batch gradient descent and L2 regularization.

    The model the tuning lessons (01) tune: small enough that dozens of trials take seconds.

    Args:
        X: ``(n_x, m)`` training inputs; labels: ``(m,)`` integer classes.
        X_dev, labels_dev: the development set the accuracy is measured on.
        learning_rate: α > 0. l2: λ ≥ 0, the cost adds λ/(2m)·‖W‖².
        epochs: passes over the training set. batch_size: examples per step.
        rng: ``numpy.random.Generator`` that shuffles each epoch (and initializes ``W``).
        start: ``(W, b)`` to continue from; ``None`` starts from small random weights.

    Returns:
        dict with ``W``, ``b``, and per epoch ``cost`` (training cost with the L2 term, after the
        epoch; ``inf`` once it diverged) and ``dev_accuracy``.
    """
    X, X_dev = _as_matrix("X", X), _as_matrix("X_dev", X_dev)
    labels = np.asarray(labels)
    if learning_rate <= 0 or l2 < 0 or epochs < 0 or batch_size < 1:
        raise ValueError(
            f"need learning_rate > 0, l2 >= 0, epochs >= 0, batch_size >= 1; got "
            f"{learning_rate}, {l2}, {epochs}, {batch_size}"
        )
    C, (n_x, m) = int(max(labels.max(), np.max(labels_dev))) + 1, X.shape
    Y = one_hot(labels, C)
    if start is None:
        W, b = rng.normal(0.0, 0.01, (C, n_x)), np.zeros((C, 1))
    else:
        W, b = (np.array(p, dtype=float) for p in start)
    history = {"cost": [], "dev_accuracy": []}
    with np.errstate(all="ignore"):  # a diverging run is reported as inf, not as warnings
        for _ in range(epochs):
            order = rng.permutation(m)
            for first in range(0, m, batch_size):
                batch = order[first : first + batch_size]
                dZ = softmax(W @ X[:, batch] + b) - Y[:, batch]
                W = W - learning_rate * (dZ @ X[:, batch].T / batch.size + l2 / m * W)
                b = b - learning_rate * dZ.mean(axis=1, keepdims=True)
            cost = cross_entropy_cost(softmax(W @ X + b), Y) + l2 / (2 * m) * float(np.sum(W**2))
            diverged = not np.isfinite(cost) or not np.all(np.isfinite(W))
            history["cost"].append(float("inf") if diverged else cost)
            history["dev_accuracy"].append(0.0 if diverged else accuracy(W, b, X_dev, labels_dev))
            if diverged:
                break
    return {"W": W, "b": b, **history}


def train_on_digits(learning_rate, l2=0.0, *, epochs=10, batch_size=64, seed=0):
    """Return :func:`train_softmax_regression`'s result on the digits' train split, measured on
    the dev split.

    One trial of the tuning lessons. It takes only numbers and loads the data itself, so it
    can run in a worker process (``concurrent.futures.ProcessPoolExecutor``).
    """
    from helpers.data import load_digits

    X, labels = load_digits("train")
    X_dev, labels_dev = load_digits("dev")
    return train_softmax_regression(
        X,
        labels,
        X_dev,
        labels_dev,
        learning_rate=learning_rate,
        l2=l2,
        epochs=epochs,
        batch_size=batch_size,
        rng=np.random.default_rng(seed),
    )
