"""Checks for notebook 06: TensorFlow on a quadratic cost. TensorFlow is imported on first use."""

import numpy as np

from helpers import tf_quadratic as ref_tf_quadratic
from helpers.checks.cases import Case, CaseTable, Mismatch, describe_error, short
from helpers.checks.driver import run_cases
from helpers.checks.verifiers import again_result, scalar_close_to, tensor_scalar


def _gradient_descent_by_hand(coefficients, learning_rate, num_steps):
    """w after ``num_steps`` steps of w ← w − α(2·c0·w + c1) from 0, in float32 like TF."""
    c0, c1 = np.float32(coefficients[0]), np.float32(coefficients[1])
    w, rate = np.float32(0.0), np.float32(learning_rate)
    for _ in range(num_steps):
        w = np.float32(w - rate * (np.float32(2) * c0 * w + c1))
    return float(w)


def _differentiable_scalar(expected, expected_gradient):
    """Verifier: a 0-d tensor equal to ``expected`` whose tape gradient is ``expected_gradient``.

    The student's process calls the function again under a ``tf.GradientTape`` and reports the
    gradient with respect to ``w`` (the probe "gradient").
    """

    def verify(result, observation):
        scalar_close_to(expected, rtol=1e-5, atol=1e-5)(tensor_scalar(result))
        if observation.probe_error:
            error = observation.probe_error
            raise Mismatch("a cost the tape can differentiate", describe_error(error))
        gradient = observation.probe
        if gradient is None:
            raise Mismatch("a cost the tape can differentiate", "no gradient: the tape lost w")
        if not isinstance(gradient, np.ndarray) or gradient.size != 1:
            raise Mismatch("a gradient with respect to the scalar w", short(gradient))
        scalar_close_to(expected_gradient, rtol=1e-5, atol=1e-5)(float(gradient.reshape(())))

    return verify


def _quadratic_case(name, w_value, coefficients, hint, *, as_tensor=True, hidden=False):
    """A case of quadratic_cost: the value c0·w² + c1·w + c2 and the tape's gradient; a hidden
    case's value comes from the reference."""
    import tensorflow as tf

    c = [float(v) for v in coefficients]
    w = tf.Variable(w_value, dtype=tf.float32)
    given = tf.constant(c, dtype=tf.float32) if as_tensor else c
    if hidden:
        expected = float(ref_tf_quadratic.quadratic_cost(w, tf.constant(c, dtype=tf.float32)))
    else:
        expected = c[0] * w_value**2 + c[1] * w_value + c[2]
    return Case(
        name,
        (w, given),
        _differentiable_scalar(expected, 2 * c[0] * w_value + c[1]),
        hint,
        probe="gradient",
        hidden=hidden,
    )


def quadratic_cost_cases() -> CaseTable:
    """The public cases of ``quadratic_cost(w, coefficients)``: c0·w² + c1·w + c2,
    differentiable by the tape."""
    case = _quadratic_case
    cases = [
        case(
            "w = 2 with coefficients [1, -12, 36]",
            2.0,
            [1, -12, 36],
            "return coefficients[0] * w**2 + coefficients[1] * w + coefficients[2]",
        ),
        case(
            "w = 6, the minimum of (w - 6)²",
            6.0,
            [1, -12, 36],
            "the cost at the minimum w = 6 is 0",
        ),
        case(
            "w = -1.5 with coefficients [2, 3, -4]",
            -1.5,
            [2, 3, -4],
            "read c0, c1, c2 from the coefficients argument; do not hard-code 1, -12, 36",
        ),
        case(
            "coefficients given as a Python list",
            3.0,
            [1, -20, 100],
            "index the coefficients (coefficients[0], …): works for lists and tensors alike",
            as_tensor=False,
        ),
    ]
    return CaseTable(
        "quadratic_cost", tuple(cases), ("w", "coefficients"), ref_tf_quadratic.quadratic_cost
    )


def quadratic_cost_hidden_cases(rng) -> list:
    """A w and coefficients drawn from ``rng``."""
    coefficients = [rng.uniform(0.5, 3), rng.uniform(-10, 10), rng.uniform(-10, 10)]
    hint = "use the w and the coefficients given, with TensorFlow operations the tape follows"
    w = float(rng.uniform(-5, 5))
    return [_quadratic_case("random w and coefficients", w, coefficients, hint, hidden=True)]


def check_quadratic_cost(quadratic_cost) -> None:
    """Check ``quadratic_cost(w, coefficients)``: c0·w² + c1·w + c2, differentiable by the tape."""
    run_cases(quadratic_cost_cases(), quadratic_cost)


_FRESH_EVERY_CALL = (
    "create w = tf.Variable(0.0) and the optimizer inside minimize_quadratic, fresh on every "
    "call: a w or an optimizer kept from an earlier call starts where it ended"
)


def _same_twice(expected, tolerance):
    """Verifier: the call and its repetition (the case's ``again``) both give ``expected``."""

    def verify(result, observation):
        scalar_close_to(expected, rtol=tolerance, atol=tolerance)(result)
        try:
            scalar_close_to(expected, rtol=tolerance, atol=tolerance)(again_result(observation, 0))
        except Mismatch as mismatch:
            raise Mismatch(
                f"the same w from a second, identical call ({mismatch.expected})",
                f"{mismatch.got} the second time",
                _FRESH_EVERY_CALL,
            ) from None

    return verify


def minimize_quadratic_cases() -> CaseTable:
    """The public cases of ``minimize_quadratic(coefficients, learning_rate, num_steps) ->
    float``."""
    import tensorflow as tf

    def case(name, coefficients, rate, steps, hint, *, as_tensor=True, tolerance=1e-4, twice=False):
        given = tf.constant(coefficients, dtype=tf.float32) if as_tensor else coefficients
        expected = _gradient_descent_by_hand(coefficients, rate, steps)
        if twice:  # called again with the same arguments: nothing may carry over between calls
            return Case(
                name,
                (given, rate, steps),
                _same_twice(expected, tolerance),
                hint,
                again=(((given, rate, steps), None),),
            )
        return Case(
            name,
            (given, rate, steps),
            scalar_close_to(expected, rtol=tolerance, atol=tolerance),
            hint,
        )

    cases = [
        case(
            "3 steps on (w - 6)² with learning rate 0.1",
            [1.0, -12.0, 36.0],
            0.1,
            3,
            "start at w = 0, take exactly num_steps steps of w -= learning_rate * dJ/dw "
            "(keras.optimizers.SGD does this) and return float(w.numpy())",
            twice=True,
        ),
        case(
            "100 steps reach the minimum w = 6",
            [1.0, -12.0, 36.0],
            0.1,
            100,
            "loop num_steps times: cost under tf.GradientTape, tape.gradient, apply the step",
        ),
        case(
            "other coefficients [1, -20, 100]: minimum at 10",
            [1.0, -20.0, 100.0],
            0.05,
            200,
            "use the coefficients argument in the cost, not fixed numbers",
        ),
        case(
            "the learning rate is used",
            [2.0, -4.0, 0.0],
            0.01,
            10,
            "pass learning_rate to the optimizer: SGD(learning_rate=learning_rate)",
        ),
        case(
            "0 steps: w stays at 0",
            [1.0, -12.0, 36.0],
            0.1,
            0,
            "with num_steps = 0, return the starting value 0.0",
        ),
        case(
            "coefficients given as a Python list",
            [1.0, -12.0, 36.0],
            0.1,
            5,
            "the coefficients may be a list or a tensor",
            as_tensor=False,
        ),
    ]
    return CaseTable(
        "minimize_quadratic",
        tuple(cases),
        ("coefficients", "learning_rate", "num_steps"),
        ref_tf_quadratic.minimize_quadratic,
        uses={"quadratic_cost": ref_tf_quadratic.quadratic_cost},
    )


def minimize_quadratic_hidden_cases(rng) -> list:
    """Coefficients, a learning rate and a number of steps drawn from ``rng``; expected from
    the reference."""
    import tensorflow as tf

    coefficients = [float(v) for v in rng.uniform((0.5, -10, -5), (2, 10, 5))]
    rate, steps = float(rng.uniform(0.01, 0.2)), int(rng.integers(1, 26))
    given = tf.constant(coefficients, dtype=tf.float32)
    expected = ref_tf_quadratic.minimize_quadratic(given, rate, steps)
    return [
        Case(
            "random coefficients, rate and steps",
            (given, rate, steps),
            scalar_close_to(expected, rtol=1e-4, atol=1e-4),
            "start at w = 0 and take exactly num_steps steps with the learning rate given",
            hidden=True,
        )
    ]


def check_minimize_quadratic(minimize_quadratic) -> None:
    """Check ``minimize_quadratic(coefficients, learning_rate, num_steps) -> float``."""
    run_cases(minimize_quadratic_cases(), minimize_quadratic)
