"""TensorFlow on the digit images (notebook 07): the reference model, loss and training step.

Keras layout, unlike the NumPy lessons: one example per **row**. ``x`` has shape ``(m, 64)``,
one-hot ``labels`` and ``logits`` have shape ``(m, 10)``. TensorFlow is imported when first
needed, so importing ``helpers`` stays fast for the lessons that do not use it.
"""

import math

N_PIXELS = 64
N_CLASSES = 10


def _hidden_units(hidden_units) -> tuple:
    if isinstance(hidden_units, str | bytes) or not isinstance(hidden_units, tuple | list):
        raise TypeError(
            f"hidden_units must be a tuple of layer sizes such as (128, 128), got {hidden_units!r}"
        )
    if not hidden_units:
        raise ValueError("hidden_units must name at least one hidden layer, got ()")
    for units in hidden_units:
        if isinstance(units, bool) or not isinstance(units, int) or units < 1:
            raise ValueError(f"hidden_units must hold positive ints, got {hidden_units!r}")
    return tuple(hidden_units)


def build_model(hidden_units=(128, 128), *, batchnorm: bool = True):
    """Return an uncompiled ``keras.Model`` mapping ``(m, 64)`` pixels to ``(m, 10)`` logits.

    Each hidden layer is ``Dense(units, use_bias=False) → BatchNormalization → ReLU``: the
    bias is left out because batch norm subtracts the mean and its β takes the bias's place.
    With ``batchnorm=False`` a hidden layer is ``Dense(units) → ReLU`` (the comparison model).
    The output layer ``Dense(10)`` has no activation: the loss applies the softmax.
    """
    import keras

    hidden_units = _hidden_units(hidden_units)
    if not isinstance(batchnorm, bool):
        raise TypeError(f"batchnorm must be True or False, got {batchnorm!r}")
    layers = [keras.Input(shape=(N_PIXELS,))]
    for units in hidden_units:
        if batchnorm:
            layers += [keras.layers.Dense(units, use_bias=False), keras.layers.BatchNormalization()]
        else:
            layers += [keras.layers.Dense(units)]
        layers.append(keras.layers.ReLU())
    layers.append(keras.layers.Dense(N_CLASSES))
    return keras.Sequential(layers, name="digits_bn" if batchnorm else "digits_plain")


def _check_logits_and_labels(logits, labels) -> None:
    """Raise unless ``logits`` and ``labels`` are 2-D with the same shape ``(m, C)``."""
    import tensorflow as tf

    for name, value in (("logits", logits), ("labels", labels)):
        if not (tf.is_tensor(value) or hasattr(value, "shape")):
            raise TypeError(f"{name} must be a tensor or array of shape (m, C), got {value!r}")
        if len(value.shape) != 2:
            raise ValueError(
                f"{name} must have shape (m, C), one row per example, got {value.shape}"
            )
    if tuple(logits.shape) != tuple(labels.shape):
        raise ValueError(
            "logits and labels must have the same shape (m, C), "
            f"got {tuple(logits.shape)} and {tuple(labels.shape)}"
        )


def compute_total_loss(logits, labels):
    """Return the **sum** over the batch of the categorical cross-entropy, a scalar tensor.

    Args:
        logits: ``(m, C)`` scores before the softmax, one row per example.
        labels: ``(m, C)`` one-hot labels.

    Summing (not averaging) lets a training loop add the totals of its mini-batches and divide
    once by m: the exact epoch cost, whatever the size of the last batch.
    """
    import keras
    import tensorflow as tf

    _check_logits_and_labels(logits, labels)
    labels = tf.cast(labels, tf.float32)
    per_example = keras.losses.categorical_crossentropy(labels, logits, from_logits=True)
    return tf.reduce_sum(per_example)


def train_step(model, optimizer, x, y):
    """Take one optimizer step on the batch ``(x, y)`` and return the batch's total loss.

    The forward pass runs with ``training=True`` (batch norm uses the batch's statistics and
    updates its moving averages). The gradient is that of the batch's **mean** loss
    ``total / batch_size``, which is what ``model.fit`` minimizes, so a loop of these steps
    follows ``fit`` step for step.

    Args:
        model: a Keras model returning logits of shape ``(m, C)``.
        optimizer: a Keras optimizer (Adam in the lesson).
        x: ``(m, 64)`` pixels. y: ``(m, C)`` one-hot labels.

    Returns:
        The total (summed) loss of the batch before the step, a scalar tensor.
    """
    import tensorflow as tf

    with tf.GradientTape() as tape:
        logits = model(x, training=True)
        total = compute_total_loss(logits, y)
        mean = total / tf.cast(tf.shape(logits)[0], total.dtype)
    gradients = tape.gradient(mean, model.trainable_variables)
    optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
    return total


def make_pipeline(x, y, *, batch_size: int, seed: int):
    """Return an endless ``tf.data`` stream of shuffled mini-batches, and the steps per epoch.

    Every epoch is one pass over all ``m`` examples in a new order, ending with a smaller batch
    when ``batch_size`` does not divide ``m``. Because the stream is endless, ``model.fit``
    (given ``steps_per_epoch``) and a hand-written loop reading ``steps_per_epoch`` batches per
    epoch from one iterator see exactly the same batches.

    Returns:
        ``(dataset, steps_per_epoch)`` with ``steps_per_epoch = ceil(m / batch_size)``.
    """
    import tensorflow as tf

    for name, value in (("x", x), ("y", y)):
        if len(getattr(value, "shape", ())) != 2:
            raise ValueError(f"{name} must be a 2-D array, one row per example, got {value!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be an int >= 0, got {seed!r}")
    m = int(x.shape[0])
    if int(y.shape[0]) != m:
        raise ValueError(f"x and y must have the same number of rows, got {m} and {y.shape[0]}")
    dataset = (
        tf.data.Dataset.from_tensor_slices((x, y))
        .shuffle(m, seed=seed)  # a new order each epoch, the same orders on every run
        .batch(batch_size)
        .repeat()
    )
    return dataset, math.ceil(m / batch_size)
