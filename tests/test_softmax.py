"""helpers.softmax: the softmax-regression trainer the tuning lessons use."""

import numpy as np
import pytest

from helpers.softmax import accuracy, train_on_digits, train_softmax_regression


def toy(seed=0, m=120):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, m)
    X = rng.normal(0, 0.3, (2, m)) + np.array([[0, 2, 0], [0, 0, 2]])[:, labels]
    return X, labels


def test_training_lowers_the_cost_and_learns_the_toy_classes():
    X, y = toy()
    history = train_softmax_regression(
        X, y, X, y, learning_rate=0.5, epochs=20, batch_size=16, rng=np.random.default_rng(0)
    )
    assert len(history["cost"]) == len(history["dev_accuracy"]) == 20
    assert history["cost"][-1] < history["cost"][0] < np.log(3) + 0.1
    assert history["dev_accuracy"][-1] > 0.95
    assert history["W"].shape == (3, 2) and history["b"].shape == (3, 1)


def test_l2_shrinks_the_weights():
    X, y = toy()
    plain, shrunk = (
        train_softmax_regression(
            X, y, X, y, learning_rate=0.5, l2=l2, epochs=20, rng=np.random.default_rng(0)
        )
        for l2 in (0.0, 50.0)
    )
    assert np.linalg.norm(shrunk["W"]) < 0.5 * np.linalg.norm(plain["W"])


def test_continuing_from_start_equals_one_longer_run():
    X, y = toy()
    rng = np.random.default_rng(1)
    first = train_softmax_regression(X, y, X, y, learning_rate=0.3, epochs=3, rng=rng)
    second = train_softmax_regression(
        X, y, X, y, learning_rate=0.3, epochs=2, rng=rng, start=(first["W"], first["b"])
    )
    whole = train_softmax_regression(
        X, y, X, y, learning_rate=0.3, epochs=5, rng=np.random.default_rng(1)
    )
    np.testing.assert_allclose(second["W"], whole["W"])
    assert first["cost"] + second["cost"] == pytest.approx(whole["cost"])


def test_a_diverging_run_stops_and_reports_inf():
    X, y = toy()
    history = train_softmax_regression(
        X * 1e3, y, X, y, learning_rate=1e6, epochs=50, rng=np.random.default_rng(0)
    )
    assert history["cost"][-1] == float("inf") and len(history["cost"]) < 50
    assert history["dev_accuracy"][-1] == 0.0


def test_train_on_digits_is_reproducible_and_learns():
    a = train_on_digits(1.0, 1e-3, epochs=3, seed=2)
    b = train_on_digits(1.0, 1e-3, epochs=3, seed=2)
    assert a["dev_accuracy"] == b["dev_accuracy"]
    assert a["dev_accuracy"][-1] > 0.85


def test_accuracy_counts_argmax_matches():
    W, b = np.eye(2), np.zeros((2, 1))
    assert accuracy(W, b, np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 2.0]]), [0, 1, 0]) == 2 / 3


@pytest.mark.parametrize(
    "bad", [{"learning_rate": 0.0}, {"l2": -1.0}, {"batch_size": 0}, {"epochs": -1}]
)
def test_bad_settings_are_named(bad):
    X, y = toy()
    settings = {"learning_rate": 0.1, "l2": 0.0, "epochs": 1, "batch_size": 8} | bad
    with pytest.raises(ValueError, match="need learning_rate > 0"):
        train_softmax_regression(X, y, X, y, rng=np.random.default_rng(0), **settings)
