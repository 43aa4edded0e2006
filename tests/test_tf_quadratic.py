"""helpers.tf_quadratic: the reference quadratic cost and its minimizer (lesson 06)."""

import pytest

from helpers.tf_quadratic import minimize_quadratic, quadratic_cost


def test_the_cost_is_a_scalar_tensor_the_tape_differentiates():
    import tensorflow as tf

    w = tf.Variable(2.0)
    with tf.GradientTape() as tape:
        cost = quadratic_cost(w, tf.constant([1.0, -12.0, 36.0]))
    assert cost.shape.rank == 0 and float(cost) == pytest.approx(16.0)
    assert float(tape.gradient(cost, w)) == pytest.approx(2 * 2.0 - 12)


@pytest.mark.parametrize(("coefficients", "minimum"), [([1, -12, 36], 6.0), ([1, -20, 100], 10.0)])
def test_gradient_descent_reaches_the_minimum(coefficients, minimum):
    w = minimize_quadratic(coefficients, 0.1, 100)
    assert isinstance(w, float) and w == pytest.approx(minimum, abs=1e-4)


def test_zero_steps_stay_at_the_start():
    assert minimize_quadratic([1, -12, 36], 0.1, 0) == 0.0


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: quadratic_cost(1.0, [1, 2]), ValueError, "3 numbers"),
        (lambda: quadratic_cost(1.0, "abc"), TypeError, "coefficients"),
        (lambda: minimize_quadratic([1, -12, 36], 0.0, 5), ValueError, "learning_rate > 0"),
        (lambda: minimize_quadratic([1, -12, 36], 0.1, -1), ValueError, "num_steps >= 0"),
        (lambda: minimize_quadratic([1, -12, 36], 0.1, 2.5), TypeError, "num_steps must be an int"),
    ],
)
def test_bad_arguments_are_named(call, error, message):
    with pytest.raises(error, match=message):
        call()
