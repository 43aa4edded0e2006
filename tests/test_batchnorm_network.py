"""helpers.batchnorm_network: the NumPy MLP with optional batch norm of lessons 03 and 04."""

import numpy as np
import pytest

from helpers.batchnorm_network import (
    backward,
    draw_bn_noise,
    forward,
    init_network,
    population_statistics,
    predict,
    train_network,
)
from helpers.gradcheck import numerical_gradient, rel_error
from helpers.softmax import cross_entropy_cost, one_hot, softmax


def toy(seed=0, m=150, offset=5.0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, m)
    X = rng.normal(0, 0.4, (2, m)) + np.array([[0, 3, 0], [0, 0, 3]])[:, labels] + offset
    return X, labels


@pytest.mark.parametrize("batchnorm", [False, True])
def test_backward_matches_numerical_gradients(batchnorm):
    rng = np.random.default_rng(1)
    params = init_network((3, 4, 5, 3), batchnorm=batchnorm, rng=rng)
    X, Y = rng.normal(size=(3, 6)), one_hot(rng.integers(0, 3, 6), 3)

    def cost():
        return cross_entropy_cost(softmax(forward(params, X)[0]), Y)

    logits, caches, _ = forward(params, X)
    grads = backward(params, logits, Y, caches)
    assert grads.keys() == params.keys()
    for name, value in params.items():
        numeric = numerical_gradient(lambda _: cost(), value)  # nudges params[name] in place
        assert rel_error(grads[name], numeric) < 1e-5, name


def test_batchnorm_layers_have_gamma_beta_and_no_bias():
    params = init_network((64, 8, 8, 10), batchnorm=True, rng=np.random.default_rng(0))
    assert sorted(params) == ["W1", "W2", "W3", "b3", "beta1", "beta2", "gamma1", "gamma2"]
    plain = init_network((64, 8, 10), batchnorm=False, rng=np.random.default_rng(0))
    assert sorted(plain) == ["W1", "W2", "b1", "b2"]


@pytest.mark.parametrize("optimizer", ["gd", "momentum", "adam"])
@pytest.mark.parametrize("batchnorm", [False, True])
def test_training_learns_the_toy_classes(optimizer, batchnorm):
    X, y = toy(offset=0.0)
    rate = 0.01 if optimizer == "adam" else 0.1
    result = train_network(
        X,
        y,
        X,
        y,
        hidden=(8,),
        batchnorm=batchnorm,
        learning_rate=rate,
        epochs=15,
        batch_size=16,
        optimizer=optimizer,
        rng=np.random.default_rng(0),
    )
    assert len(result["cost"]) == len(result["dev_accuracy"]) == 15
    assert result["cost"][-1] < result["cost"][0]
    assert result["dev_accuracy"][-1] > 0.95
    assert len(result["running"]) == (1 if batchnorm else 0)


def test_the_same_seed_rebuilds_the_same_network():
    X, y = toy()
    a, b = (
        train_network(
            X, y, X, y, hidden=(6, 6), learning_rate=0.1, epochs=3, rng=np.random.default_rng(4)
        )
        for _ in range(2)
    )
    for key in a["params"]:
        assert np.array_equal(a["params"][key], b["params"][key])
    assert a["cost"] == b["cost"]


def test_running_averages_follow_the_batches():
    X, y = toy()
    result = train_network(
        X,
        y,
        X,
        y,
        hidden=(5,),
        learning_rate=0.05,
        epochs=20,
        batch_size=50,
        bn_momentum=0.5,
        rng=np.random.default_rng(0),
    )
    ((running_mu, running_var),) = result["running"]
    ((exact_mu, exact_var),) = population_statistics(result["params"], X)
    assert running_mu.shape == running_var.shape == (5, 1)
    # a fast average of 3 batches per epoch lands near the whole-set statistics
    np.testing.assert_allclose(running_mu, exact_mu, rtol=0.2, atol=0.2)
    np.testing.assert_allclose(running_var, exact_var, rtol=0.5, atol=0.2)
    last_mu, _ = result["last_batch"][0]
    assert last_mu.shape == (5, 1)


def test_snapshots_hold_the_parameters_before_every_kth_step():
    X, y = toy(m=100)
    arguments = {"hidden": (4, 4), "learning_rate": 0.1, "epochs": 2, "batch_size": 25}
    result = train_network(X, y, X, y, **arguments, snapshot_every=3, rng=np.random.default_rng(0))
    snapshots = result["snapshots"]
    assert [s["step"] for s in snapshots] == [0, 3, 6]  # 2 epochs of 4 steps
    # the first snapshot is the initialization; a copy, so training did not change it
    initial = init_network((2, 4, 4, 3), batchnorm=True, rng=np.random.default_rng(0))
    for key, value in initial.items():
        assert np.array_equal(snapshots[0]["params"][key], value)
    # training for 3 steps, the same seed, gives the parameters stored at step 3
    shorter = train_network(
        X, y, X, y, **{**arguments, "epochs": 1}, snapshot_every=1, rng=np.random.default_rng(0)
    )
    for key in initial:
        assert np.array_equal(shorter["snapshots"][3]["params"][key], snapshots[1]["params"][key])
    assert all(s["batch"].shape == (25,) for s in snapshots)
    assert "snapshots" not in train_network(X, y, X, y, **arguments, rng=np.random.default_rng(0))


def test_kept_batch_statistics_replay_the_running_averages():
    X, y = toy(m=100)
    result = train_network(
        X,
        y,
        X,
        y,
        hidden=(5,),
        learning_rate=0.1,
        epochs=3,
        batch_size=20,
        bn_momentum=0.8,
        keep_batch_statistics=True,
        rng=np.random.default_rng(2),
    )
    kept = result["batch_statistics"]
    assert len(kept) == 15 and kept[-1] == result["last_batch"]
    mu, var = np.zeros((5, 1)), np.ones((5, 1))
    for ((batch_mu, batch_var),) in kept:
        mu, var = 0.8 * mu + 0.2 * batch_mu, 0.8 * var + 0.2 * batch_var
    ((running_mu, running_var),) = result["running"]
    np.testing.assert_allclose(mu, running_mu, rtol=1e-12)
    np.testing.assert_allclose(var, running_var, rtol=1e-12)


@pytest.mark.parametrize(("value", "error"), [(0, ValueError), (2.0, TypeError), (True, TypeError)])
def test_a_bad_snapshot_interval_is_named(value, error):
    X, y = toy(m=10)
    with pytest.raises(error, match="snapshot_every"):
        train_network(
            X, y, X, y, learning_rate=0.1, snapshot_every=value, rng=np.random.default_rng(0)
        )


def test_a_diverging_run_is_reported_as_inf_and_stops():
    X, y = toy()
    result = train_network(
        X,
        y,
        X,
        y,
        hidden=(8,),
        batchnorm=False,
        learning_rate=1e6,
        epochs=10,
        rng=np.random.default_rng(0),
    )
    assert result["cost"][-1] == float("inf") and len(result["cost"]) < 10


def test_predict_returns_one_class_per_column():
    params = init_network((2, 3, 3), batchnorm=True, rng=np.random.default_rng(0))
    X, _ = toy(m=10)
    stats = population_statistics(params, X)
    assert predict(params, X, stats).shape == (10,)
    with pytest.raises(ValueError, match="one \\(mu, var\\) per hidden layer"):
        predict(params, X, stats * 2)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"optimizer": "sgd"}, "optimizer must be one of"),
        ({"learning_rate": 0}, "learning_rate > 0"),
        ({"batch_size": 0}, "batch_size >= 1"),
    ],
)
def test_bad_training_arguments_are_named(kwargs, message):
    X, y = toy(m=10)
    arguments = {"learning_rate": 0.1, "rng": np.random.default_rng(0), **kwargs}
    with pytest.raises(ValueError, match=message):
        train_network(X, y, X, y, **arguments)


def test_bad_layer_sizes_are_named():
    with pytest.raises(ValueError, match="layer_sizes"):
        init_network((3,), batchnorm=True, rng=np.random.default_rng(0))


def test_backward_goes_through_the_noise_after_batch_norm():
    rng = np.random.default_rng(3)
    params = init_network((3, 4, 5, 3), batchnorm=True, rng=rng)
    X, Y = rng.normal(size=(3, 6)), one_hot(rng.integers(0, 3, 6), 3)
    noise = draw_bn_noise((4, 5), 6, 1.0, np.random.default_rng(0))

    def cost():
        return cross_entropy_cost(softmax(forward(params, X, noise=noise)[0]), Y)

    logits, caches, _ = forward(params, X, noise=noise)
    grads = backward(params, logits, Y, caches)
    for name, value in params.items():
        numeric = numerical_gradient(lambda _: cost(), value)
        assert rel_error(grads[name], numeric) < 1e-5, name
    # the noise changes what the next layer receives
    assert not np.allclose(logits, forward(params, X)[0])


def test_bn_noise_has_the_documented_ranges():
    (scale, shift), second = draw_bn_noise((200, 3), 50, 1.0, np.random.default_rng(0))
    assert scale.shape == (200, 1) and shift.shape == (200, 50) and second[1].shape == (3, 50)
    assert 0.5 <= scale.min() and scale.max() <= 1.5
    per_unit = shift.mean(axis=1)  # the unit's step-level shift plus the mean of 50 N(0, 1/16)
    assert np.abs(per_unit).max() < 1.2 and per_unit.std() > 0.4
    assert np.allclose(shift.std(axis=1), 0.25, atol=0.1)
    for scale, shift in draw_bn_noise((4,), 5, 0.0, np.random.default_rng(0)):
        assert np.all(scale == 1) and np.all(shift == 0)
    with pytest.raises(ValueError, match="strength must be in"):
        draw_bn_noise((4,), 5, 2.0, np.random.default_rng(0))
    with pytest.raises(TypeError, match="strength must be a number"):
        draw_bn_noise((4,), 5, "1", np.random.default_rng(0))


def test_noise_after_batch_norm_leaves_weights_and_batches_alone():
    X, y = toy(m=60)
    arguments = {"hidden": (5,), "learning_rate": 0.1, "epochs": 1, "batch_size": 20}
    quiet = train_network(X, y, X, y, **arguments, snapshot_every=1, rng=np.random.default_rng(0))
    noisy = train_network(
        X,
        y,
        X,
        y,
        **arguments,
        snapshot_every=1,
        bn_noise=1.0,
        noise_rng=np.random.default_rng(9),
        rng=np.random.default_rng(0),
    )
    # the same initial weights and the same batches; the steps differ because of the noise
    for a, b in zip(quiet["snapshots"], noisy["snapshots"], strict=True):
        assert np.array_equal(a["batch"], b["batch"])
    assert np.array_equal(
        quiet["snapshots"][0]["params"]["W1"], noisy["snapshots"][0]["params"]["W1"]
    )
    assert not np.array_equal(quiet["params"]["W1"], noisy["params"]["W1"])
    with pytest.raises(ValueError, match="bn_noise needs batchnorm=True"):
        train_network(
            X,
            y,
            X,
            y,
            **arguments,
            batchnorm=False,
            bn_noise=1.0,
            noise_rng=np.random.default_rng(9),
            rng=np.random.default_rng(0),
        )
    with pytest.raises(TypeError, match="needs noise_rng"):
        train_network(X, y, X, y, **arguments, bn_noise=1.0, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="one \\(scale, shift\\) per hidden layer"):
        forward(
            init_network((2, 3, 3, 3), batchnorm=True, rng=np.random.default_rng(0)),
            X,
            noise=draw_bn_noise((3,), 60, 1.0, np.random.default_rng(0)),
        )


def test_drop_last_skips_the_smaller_last_batch():
    X, y = toy(m=50)
    arguments = {"hidden": (4,), "learning_rate": 0.1, "epochs": 2, "batch_size": 20}
    kept = train_network(
        X, y, X, y, **arguments, keep_batch_statistics=True, rng=np.random.default_rng(0)
    )
    dropped = train_network(
        X,
        y,
        X,
        y,
        **arguments,
        keep_batch_statistics=True,
        drop_last=True,
        snapshot_every=1,
        rng=np.random.default_rng(0),
    )
    assert len(kept["batch_statistics"]) == 6 and len(dropped["batch_statistics"]) == 4
    assert all(s["batch"].size == 20 for s in dropped["snapshots"])
    with pytest.raises(ValueError, match="drop_last with batch_size 60"):
        train_network(
            X,
            y,
            X,
            y,
            **{**arguments, "batch_size": 60},
            drop_last=True,
            rng=np.random.default_rng(0),
        )
