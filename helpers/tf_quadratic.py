"""TensorFlow on a quadratic cost (notebook 06): the reference implementations.

``coefficients`` are ``[c0, c1, c2]`` of J(w) = c0·w² + c1·w + c2, as a list or a tensor;
``w`` is a scalar ``tf.Variable`` or tensor. TensorFlow is imported when first needed, so
importing ``helpers`` stays fast for the lessons that do not use it.
"""


def _coefficients(coefficients):
    import tensorflow as tf

    if isinstance(coefficients, str | bytes):
        raise TypeError(f"coefficients must be 3 numbers [c0, c1, c2], got {coefficients!r}")
    try:
        tensor = tf.reshape(tf.cast(coefficients, tf.float32), [-1])
    except (TypeError, ValueError, tf.errors.OpError) as error:
        raise TypeError(f"coefficients must be 3 numbers [c0, c1, c2], got {coefficients!r}") from (
            error
        )
    if tensor.shape[0] != 3:
        raise ValueError(f"coefficients must hold 3 numbers [c0, c1, c2], got {tensor.shape[0]}")
    return tensor


def quadratic_cost(w, coefficients):
    """Return J(w) = c0·w² + c1·w + c2 as a scalar tensor that ``tf.GradientTape`` can follow."""
    c = _coefficients(coefficients)
    return c[0] * w**2 + c[1] * w + c[2]


def minimize_quadratic(coefficients, learning_rate: float, num_steps: int) -> float:
    """Return ``w`` after ``num_steps`` steps of plain gradient descent on J from ``w = 0``.

    The gradient comes from ``tf.GradientTape``; the update from ``keras.optimizers.SGD``.

    Raises:
        ValueError: ``learning_rate`` <= 0 or ``num_steps`` < 0.
        TypeError: ``num_steps`` is not an int.
    """
    import keras
    import tensorflow as tf

    if isinstance(num_steps, bool) or not isinstance(num_steps, int):
        raise TypeError(f"num_steps must be an int, got {type(num_steps).__name__}")
    if num_steps < 0 or not learning_rate > 0:
        raise ValueError(
            f"need learning_rate > 0 and num_steps >= 0, got {learning_rate} and {num_steps}"
        )
    c = _coefficients(coefficients)
    w = tf.Variable(0.0, dtype=tf.float32)
    optimizer = keras.optimizers.SGD(learning_rate=learning_rate)
    for _ in range(num_steps):
        with tf.GradientTape() as tape:
            cost = quadratic_cost(w, c)
        optimizer.apply_gradients([(tape.gradient(cost, w), w)])
    return float(w.numpy())
