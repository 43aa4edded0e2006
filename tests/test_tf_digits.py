"""helpers.tf_digits: the reference digits model, total loss, training step and pipeline (07)."""

import math

import numpy as np
import pytest

from helpers import seed_tensorflow
from helpers.tf_digits import build_model, compute_total_loss, make_pipeline, train_step


@pytest.fixture
def tf():
    seed_tensorflow(0)
    import tensorflow

    return tensorflow


def test_the_model_maps_pixels_to_ten_logits_with_bn_blocks(tf):
    model = build_model((32, 16))
    assert not model.compiled
    assert model(np.zeros((3, 64), "float32")).shape == (3, 10)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["Dense", "BatchNormalization", "ReLU"] * 2 + ["Dense"]
    dense = [layer for layer in model.layers if type(layer).__name__ == "Dense"]
    assert [layer.use_bias for layer in dense] == [False, False, True]
    # 64·32 + 32·16 + 16·10 + 10 weights, γ and β per hidden unit; moving mean and variance
    assert model.count_params() == 64 * 32 + 32 * 16 + 16 * 10 + 10 + 4 * (32 + 16)


def test_the_plain_model_has_biases_and_no_batch_norm(tf):
    model = build_model((8,), batchnorm=False)
    assert [type(layer).__name__ for layer in model.layers] == ["Dense", "ReLU", "Dense"]
    assert model.count_params() == 64 * 8 + 8 + 8 * 10 + 10


def test_the_total_loss_is_the_sum_of_per_example_cross_entropies(tf):
    logits = tf.constant([[2.0, 0.0, -1.0], [0.5, 0.5, 3.0]])
    labels = tf.constant([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    by_hand = sum(
        math.log(sum(math.exp(v) for v in z)) - z[k]
        for z, k in [([2.0, 0.0, -1.0], 0), ([0.5, 0.5, 3.0], 1)]
    )
    total = compute_total_loss(logits, labels)
    assert total.shape.rank == 0 and float(total) == pytest.approx(by_hand, rel=1e-6)


def test_one_step_returns_the_total_and_moves_weights_and_moving_statistics(tf):
    import keras

    model = build_model((16,))
    x = tf.constant(np.random.default_rng(0).random((8, 64)), tf.float32)
    y = tf.one_hot(np.arange(8) % 10, 10)
    before_loss = float(compute_total_loss(model(x, training=True), y))
    kernel, moving_mean = (model.layers[0].kernel.numpy(), model.layers[1].moving_mean.numpy())
    total = train_step(model, keras.optimizers.Adam(0.01), x, y)
    assert float(total) == pytest.approx(before_loss, rel=1e-6)
    assert not np.allclose(model.layers[0].kernel.numpy(), kernel)
    assert not np.allclose(model.layers[1].moving_mean.numpy(), moving_mean)


def test_the_sgd_step_follows_the_gradient_of_the_mean(tf):
    import keras

    model = build_model((4,))
    x = tf.constant(np.random.default_rng(1).random((5, 64)), tf.float32)
    y = tf.one_hot([0, 1, 2, 3, 4], 10)
    with tf.GradientTape() as tape:
        mean = compute_total_loss(model(x, training=True), y) / 5
    gradients = tape.gradient(mean, model.trainable_variables)
    pairs = zip(model.trainable_variables, gradients, strict=True)
    expected = [v.numpy() - 0.1 * g.numpy() for v, g in pairs]
    train_step(model, keras.optimizers.SGD(0.1), x, y)
    for variable, value in zip(model.trainable_variables, expected, strict=True):
        np.testing.assert_allclose(variable.numpy(), value, atol=1e-6)


def test_the_pipeline_visits_every_example_once_per_epoch_in_new_orders(tf):
    x = np.arange(10, dtype="float32").reshape(10, 1) * np.ones((1, 3), "float32")
    y = np.eye(10, dtype="float32")
    dataset, steps = make_pipeline(x, y, batch_size=4, seed=0)
    assert steps == 3
    batches = iter(dataset)
    epochs = [
        np.concatenate([next(batches)[0].numpy()[:, 0] for _ in range(steps)]) for _ in range(2)
    ]
    assert [len(e) for e in epochs] == [10, 10]
    assert all(sorted(e) == list(range(10)) for e in epochs)
    assert list(epochs[0]) != list(epochs[1])
    again = iter(make_pipeline(x, y, batch_size=4, seed=0)[0])
    assert np.array_equal(next(again)[0].numpy()[:, 0], epochs[0][:4])


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: build_model(128), TypeError, "hidden_units must be a tuple"),
        (lambda: build_model(()), ValueError, "at least one hidden layer"),
        (lambda: build_model((128, 0)), ValueError, "positive ints"),
        (lambda: build_model((8,), batchnorm="yes"), TypeError, "batchnorm"),
        (
            lambda: compute_total_loss(np.zeros((3, 10)), np.zeros((10, 3))),
            ValueError,
            "same shape",
        ),
        (lambda: compute_total_loss(np.zeros(10), np.zeros(10)), ValueError, "logits must have"),
        (lambda: compute_total_loss([1.0], [1.0]), TypeError, "logits must be a tensor"),
        (
            lambda: make_pipeline(np.zeros((4, 64)), np.zeros((3, 10)), batch_size=2, seed=0),
            ValueError,
            "same number of rows",
        ),
        (
            lambda: make_pipeline(np.zeros((4, 64)), np.zeros((4, 10)), batch_size=0, seed=0),
            ValueError,
            "batch_size",
        ),
        (
            lambda: make_pipeline(np.zeros((4, 64)), np.zeros((4, 10)), batch_size=2, seed=-1),
            ValueError,
            "seed",
        ),
    ],
)
def test_bad_arguments_are_named(tf, call, error, message):
    with pytest.raises(error, match=message):
        call()
