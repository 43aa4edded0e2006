"""helpers.batchnorm: the reference batch-norm functions of lessons 03 and 04."""

import numpy as np
import pytest

from helpers.batchnorm import (
    batchnorm_backward,
    batchnorm_forward,
    batchnorm_inference,
    update_running_averages,
)
from helpers.gradcheck import numerical_gradient, rel_error


def batch(seed=0, n=4, m=7):
    rng = np.random.default_rng(seed)
    Z = rng.normal(0, 3, (n, m)) + rng.normal(0, 5, (n, 1))
    return Z, rng.uniform(0.5, 2, (n, 1)), rng.normal(0, 1, (n, 1))


def test_each_unit_gets_mean_beta_and_spread_gamma():
    Z, gamma, beta = batch()
    Z_tilde, (Z_cached, Z_norm, mu, var, gamma_cached, eps) = batchnorm_forward(Z, gamma, beta)
    np.testing.assert_allclose(Z_tilde.mean(axis=1, keepdims=True), beta, atol=1e-12)
    np.testing.assert_allclose(Z_tilde.std(axis=1, keepdims=True), gamma, rtol=1e-7)
    np.testing.assert_allclose(mu, Z.mean(axis=1, keepdims=True))
    np.testing.assert_allclose(var, Z.var(axis=1, keepdims=True))
    np.testing.assert_allclose(Z_tilde, gamma * Z_norm + beta)
    assert np.array_equal(Z_cached, Z) and np.array_equal(gamma_cached, gamma) and eps == 1e-8


def test_gamma_sqrt_var_and_beta_mu_give_back_z():
    Z, _, _ = batch(1)
    mu, var = Z.mean(axis=1, keepdims=True), Z.var(axis=1, keepdims=True)
    np.testing.assert_allclose(batchnorm_forward(Z, np.sqrt(var + 1e-8), mu)[0], Z, atol=1e-12)


def test_a_bias_added_before_batch_norm_changes_nothing():
    Z, gamma, beta = batch(2)
    shifted = Z + np.arange(4.0).reshape(4, 1)
    np.testing.assert_allclose(
        batchnorm_forward(shifted, gamma, beta)[0], batchnorm_forward(Z, gamma, beta)[0], atol=1e-12
    )


@pytest.mark.parametrize(("m", "eps"), [(7, 1e-8), (3, 0.5), (1, 1e-8)])
def test_backward_matches_numerical_gradients(m, eps):
    Z, gamma, beta = batch(3, m=m)
    upstream = np.random.default_rng(4).normal(size=Z.shape)
    dZ, dgamma, dbeta = batchnorm_backward(upstream, batchnorm_forward(Z, gamma, beta, eps)[1])

    def cost(Z_=Z, g=gamma, b=beta):
        return np.sum(upstream * batchnorm_forward(Z_, g, b, eps)[0])

    if m == 1:  # Z_norm is 0 whatever Z is: no gradient reaches Z
        assert np.abs(dZ).max() < 1e-12
    else:
        assert rel_error(dZ, numerical_gradient(lambda z: cost(Z_=z), Z.copy())) < 1e-6
    assert rel_error(dgamma, numerical_gradient(lambda g: cost(g=g), gamma.copy())) < 1e-7
    assert rel_error(dbeta, numerical_gradient(lambda b: cost(b=b), beta.copy())) < 1e-7


def test_running_averages_follow_the_keras_form_and_leave_arguments_alone():
    running_mu, running_var = np.zeros((2, 1)), np.ones((2, 1))
    mu, var = np.array([[1.0], [2.0]]), np.array([[4.0], [9.0]])
    new_mu, new_var = update_running_averages(running_mu, running_var, mu, var, 0.9)
    np.testing.assert_allclose(new_mu, [[0.1], [0.2]])
    np.testing.assert_allclose(new_var, [[1.3], [1.8]])
    assert np.array_equal(running_mu, np.zeros((2, 1)))


def test_inference_with_the_batchs_own_statistics_equals_training_mode():
    Z, gamma, beta = batch(5)
    mu, var = Z.mean(axis=1, keepdims=True), Z.var(axis=1, keepdims=True)
    np.testing.assert_allclose(
        batchnorm_inference(Z, gamma, beta, mu, var), batchnorm_forward(Z, gamma, beta)[0]
    )
    one = batchnorm_inference(Z[:, :1], gamma, beta, mu, var)
    np.testing.assert_allclose(one, batchnorm_forward(Z, gamma, beta)[0][:, :1])


@pytest.mark.parametrize(
    ("call", "error", "names"),
    [
        (lambda: batchnorm_forward(np.ones(3), np.ones((3, 1)), np.zeros((3, 1))), ValueError, "Z"),
        (
            lambda: batchnorm_forward(np.ones((3, 2)), np.ones(3), np.zeros((3, 1))),
            ValueError,
            "gamma",
        ),
        (lambda: batchnorm_forward(np.ones((3, 2)), np.ones((3, 1)), 0.0), ValueError, "beta"),
        (
            lambda: batchnorm_forward(np.ones((3, 2)), np.ones((3, 1)), np.zeros((3, 1)), eps=0),
            ValueError,
            "eps",
        ),
        (
            lambda: batchnorm_forward(np.ones((3, 0)), np.ones((3, 1)), np.zeros((3, 1))),
            ValueError,
            "m >= 1",
        ),
        (lambda: batchnorm_backward(np.ones((3, 2)), {"Z": 1}), TypeError, "cache"),
        (
            lambda: batchnorm_backward(
                np.ones((3, 5)),
                batchnorm_forward(np.ones((3, 2)), np.ones((3, 1)), np.zeros((3, 1)))[1],
            ),
            ValueError,
            "dZ_tilde",
        ),
        (lambda: update_running_averages(0, 1, 0, 1, 1.5), ValueError, "momentum"),
        (lambda: update_running_averages(0, 1, 0, 1, "0.9"), TypeError, "momentum"),
        (
            lambda: update_running_averages(np.zeros((2, 1)), 1, 0, 1, 0.9),
            ValueError,
            "running_var",
        ),
        (
            lambda: batchnorm_inference(
                np.ones((2, 3)),
                np.ones((2, 1)),
                np.zeros((2, 1)),
                np.zeros((2, 1)),
                -np.ones((2, 1)),
            ),
            ValueError,
            "running_var",
        ),
    ],
)
def test_bad_arguments_are_named(call, error, names):
    with pytest.raises(error, match=names):
        call()
