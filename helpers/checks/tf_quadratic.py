"""Checks for notebook 06: TensorFlow on a quadratic cost. TensorFlow is imported on first use."""

import numpy as np

from helpers import tf_quadratic as ref_tf_quadratic
from helpers.checks.cases import Case, CaseTable, Mismatch, describe_error, read_error, short
from helpers.checks.driver import run_cases
from helpers.checks.hints import Rung
from helpers.checks.verifiers import again_result, scalar_close_to, tensor_scalar


def _descent_from(start, coefficients, learning_rate, num_steps):
    """w after ``num_steps`` steps of w ← w − α(2·c0·w + c1) from ``start``, in float32 like
    TF."""
    c0, c1 = np.float32(coefficients[0]), np.float32(coefficients[1])
    w, rate = np.float32(start), np.float32(learning_rate)
    for _ in range(num_steps):
        w = np.float32(w - rate * (np.float32(2) * c0 * w + c1))
    return float(w)


def _gradient_descent_by_hand(coefficients, learning_rate, num_steps):
    """w after ``num_steps`` steps of gradient descent from 0."""
    return _descent_from(0.0, coefficients, learning_rate, num_steps)


_TAPE_LOST_W = (
    "the tape lost w: use the w you are given as it is (a new variable or a constant made from "
    "it is another variable, which the tape does not connect to w)"
)
_GRAPH = (
    "your cost works eagerly but not inside a tf.function (graph mode), where the coefficients "
    "are symbolic tensors that NumPy cannot convert: use TensorFlow operations only, as the "
    "statement asks"
)
_GRAPH_UNPACK = (
    "your cost works eagerly but not inside a tf.function (graph mode): there the coefficients "
    "are one symbolic tensor, which cannot be unpacked into several names or looped over; take "
    "each coefficient by its position instead"
)
_GRAPH_CONSTANT = (
    "your cost works eagerly but not inside a tf.function (graph mode): there the coefficients "
    "arrive as a symbolic tensor, and tf.constant accepts only values it can copy now (numbers, "
    "lists, NumPy arrays), not a tensor; use the coefficients as given, or tf.cast if you need "
    "another dtype"
)
_GRAPH_BOOL = (
    "your cost works eagerly but not inside a tf.function (graph mode): there a tensor has no "
    "value yet, so a Python if or comparison on it cannot be decided; compute the cost without "
    "branching on tensors"
)


def _graph_hint(error) -> str:
    """The likely mistake behind an error raised in graph mode only."""
    message = (error or {}).get("message", "") if isinstance(error, dict) else ""
    if "iterating over" in message.lower() or "unpack" in message:
        return _GRAPH_UNPACK
    # tf.constant of a tensor: "Expected float32, but got a symbolic tensor …" with a dtype,
    # "Expected any non-tensor type, but got a tensor instead" without one
    if "non-tensor type" in message or ("Expected" in message and "symbolic tensor" in message):
        return _GRAPH_CONSTANT
    if "as a Python `bool`" in message or "as a Python bool" in message:
        return _GRAPH_BOOL
    return _GRAPH


_HARD_CODED = (
    "your cost ignores the coefficients given (it is the course's example whatever they are): "
    "read c0, c1 and c2 from the coefficients argument"
)
_REVERSED = "you used the coefficients in reverse order: c0 multiplies w², and c2 is the constant"
_NO_W = "your middle term lacks w: c1 multiplies w"


def _cost_mistakes(w, c) -> tuple:
    return (
        (w**2 - 12 * w + 36, _HARD_CODED),
        (c[2] * w**2 + c[1] * w + c[0], _REVERSED),
        (c[0] * w**2 + c[1] + c[2], _NO_W),
    )


def _differentiable_scalar(expected, expected_gradient, mistakes=()):
    """Verifier: a 0-d tensor equal to ``expected`` whose tape gradient is ``expected_gradient``,
    eagerly and inside a ``tf.function``.

    The student's process calls the function again under a ``tf.GradientTape``, and once more
    traced in graph mode, and reports value and gradient (the probe "gradient_in_graph").
    """

    def verify(result, observation):
        value = tensor_scalar(result)
        scalar_close_to(expected, rtol=1e-5, atol=1e-5, mistakes=mistakes)(value)
        if observation.probe_error:
            error = observation.probe_error
            raise Mismatch("a cost the tape can differentiate", describe_error(error))
        probe = observation.probe if isinstance(observation.probe, dict) else {}
        gradient, graph = probe.get("eager"), probe.get("graph")
        if gradient is None:
            raise Mismatch(
                "a cost the tape can differentiate", "no gradient: the tape lost w", _TAPE_LOST_W
            )
        if not isinstance(gradient, np.ndarray) or gradient.size != 1:
            raise Mismatch("a gradient with respect to the scalar w", short(gradient))
        scalar_close_to(expected_gradient, rtol=1e-5, atol=1e-5)(float(gradient.reshape(())))
        if not isinstance(graph, dict):
            raise Mismatch("a cost that works inside a tf.function", short(graph))
        if "error" in graph:
            error = read_error(graph["error"])
            got = describe_error(error) if error else "an error"
            raise Mismatch(
                "a cost that works inside a tf.function (graph mode)", got, _graph_hint(error)
            )
        traced = graph.get("value")
        if not isinstance(traced, np.ndarray) or traced.size != 1:
            raise Mismatch("a scalar cost inside a tf.function", short(traced), _GRAPH)
        scalar_close_to(expected, rtol=1e-5, atol=1e-5)(float(traced.reshape(())))

    return verify


def _quadratic_case(name, w_value, coefficients, hint, *, as_tensor=True, hidden=False):
    """A case of quadratic_cost: the value c0·w² + c1·w + c2 and the tape's gradient, eagerly
    and in graph mode; a hidden case's value comes from the reference."""
    import tensorflow as tf

    c = [float(v) for v in coefficients]
    w = tf.Variable(w_value, dtype=tf.float32)
    given = tf.constant(c, dtype=tf.float32) if as_tensor else c
    if hidden:
        expected = float(ref_tf_quadratic.quadratic_cost(w, tf.constant(c, dtype=tf.float32)))
    else:
        expected = c[0] * w_value**2 + c[1] * w_value + c[2]
    mistakes = tuple(
        (wrong, why) for wrong, why in _cost_mistakes(w_value, c) if abs(wrong - expected) > 1e-3
    )
    return Case(
        name,
        (w, given),
        _differentiable_scalar(expected, 2 * c[0] * w_value + c[1], mistakes),
        hint,
        probe="gradient_in_graph",
        hidden=hidden,
    )


def quadratic_cost_cases() -> CaseTable:
    """The public cases of ``quadratic_cost(w, coefficients)``: c0·w² + c1·w + c2,
    differentiable by the tape, eagerly and inside a ``tf.function``."""
    case = _quadratic_case
    formula = "the cost is c0 times w squared, plus c1 times w, plus c2"
    cases = [
        case("w = 2 with coefficients [1, -12, 36]", 2.0, [1, -12, 36], formula),
        case("w = 6, the minimum of (w - 6)²", 6.0, [1, -12, 36], "the cost at its minimum is 0"),
        case(
            "w = -1.5 with coefficients [2, 3, -4]",
            -1.5,
            [2, 3, -4],
            "read c0, c1 and c2 from the coefficients argument: they change from case to case",
        ),
        case(
            "coefficients given as a Python list",
            3.0,
            [1, -20, 100],
            "the coefficients may come as a list or as a tensor: indexing works for both",
            as_tensor=False,
        ),
    ]
    return CaseTable(
        "quadratic_cost",
        tuple(cases),
        ("w", "coefficients"),
        ref_tf_quadratic.quadratic_cost,
        ladder=COST_LADDER,
    )


COST_LADDER = (
    Rung(
        "the idea",
        "+, * and ** on a tf.Variable are TensorFlow operations already: the formula written "
        "as in NumPy is recorded by the tape. Converting anything with NumPy cuts the tape, and "
        "fails inside a tf.function.",
    ),
    Rung(
        "the tools",
        "Index the coefficients, coefficients[0], …: that works for a list and for a tensor alike.",
    ),
    Rung("the code shape", "cost = coefficients[0] * w**2 + ...\nreturn cost"),
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
    "create w and the optimizer inside minimize_quadratic, fresh on every call: a w or an "
    "optimizer kept from an earlier call starts where it ended"
)
_ONE_MORE = "you took one step more than num_steps: the loop must run exactly num_steps times"
_ONE_FEWER = "you took one step fewer than num_steps: the loop must run exactly num_steps times"
_NOT_FROM_ZERO = "your descent does not start at 0: create w with the value 0.0"
_FIXED_RATE = "your steps have another size: use the learning_rate argument for the optimizer"
_COURSE_EXAMPLE = (
    "your descent minimizes the course's example, not the coefficients given: pass the "
    "coefficients argument to the cost"
)
_INT_VARIABLE = (
    "your w is an integer variable (a tf.Variable made from the integer 0 is int32), and "
    "TensorFlow does not mix it with the float coefficients: start from the float 0.0"
)
_OUTSIDE_TAPE = (
    "the tape found no path from the cost to w: it records only what runs inside its with "
    "block, so compute the cost inside that block, then ask for the gradient"
)
MINIMIZE_ERRORS = (
    (r"int32", _INT_VARIABLE),
    (r"No gradients provided|NoneType", _OUTSIDE_TAPE),
)


def _same_twice(expected, tolerance, mistakes=()):
    """Verifier: the call and its repetition (the case's ``again``) both give ``expected``."""

    def verify(result, observation):
        scalar_close_to(expected, rtol=tolerance, atol=tolerance, mistakes=mistakes)(result)
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
        by_hand = _gradient_descent_by_hand
        mistakes = tuple(
            (wrong, why)
            for wrong, why in (
                (by_hand(coefficients, rate, steps + 1), _ONE_MORE),
                (by_hand(coefficients, rate, max(steps - 1, 0)), _ONE_FEWER),
                (by_hand(coefficients, 0.1, steps), _FIXED_RATE),
                (by_hand([1.0, -12.0, 36.0], rate, steps), _COURSE_EXAMPLE),
                (_descent_from(1.0, coefficients, rate, steps), _NOT_FROM_ZERO),
            )
            if abs(wrong - expected) > tolerance
        )
        if twice:  # called again with the same arguments: nothing may carry over between calls
            return Case(
                name,
                (given, rate, steps),
                _same_twice(expected, tolerance, mistakes),
                hint,
                again=(((given, rate, steps), None),),
                error_hints=MINIMIZE_ERRORS,
            )
        return Case(
            name,
            (given, rate, steps),
            scalar_close_to(expected, rtol=tolerance, atol=tolerance, mistakes=mistakes),
            hint,
            error_hints=MINIMIZE_ERRORS,
        )

    cases = [
        case(
            "3 steps on (w - 6)² with learning rate 0.1",
            [1.0, -12.0, 36.0],
            0.1,
            3,
            "start at 0 and take exactly num_steps steps of plain gradient descent, then return "
            "w as a Python float",
            twice=True,
        ),
        case(
            "100 steps reach the minimum w = 6",
            [1.0, -12.0, 36.0],
            0.1,
            100,
            "each step records the cost under the tape, asks it for the gradient and applies it",
        ),
        case(
            "other coefficients [1, -20, 100]: minimum at 10",
            [1.0, -20.0, 100.0],
            0.05,
            200,
            _COURSE_EXAMPLE,
        ),
        case("the learning rate is used", [2.0, -4.0, 0.0], 0.01, 10, _FIXED_RATE),
        case(
            "0 steps: w stays at 0",
            [1.0, -12.0, 36.0],
            0.1,
            0,
            "with no steps to take, return the starting value 0.0",
        ),
        case(
            "coefficients given as a Python list",
            [1.0, -12.0, 36.0],
            0.1,
            5,
            "the coefficients may come as a list or as a tensor",
            as_tensor=False,
        ),
    ]
    return CaseTable(
        "minimize_quadratic",
        tuple(cases),
        ("coefficients", "learning_rate", "num_steps"),
        ref_tf_quadratic.minimize_quadratic,
        uses={"quadratic_cost": ref_tf_quadratic.quadratic_cost},
        ladder=MINIMIZE_LADDER,
    )


MINIMIZE_LADDER = (
    Rung(
        "the idea",
        "Section 2's pattern in a loop: a tf.Variable for w, and each step records the cost "
        "under a tape, asks it for dJ/dw and lets an optimizer apply it.",
    ),
    Rung(
        "the tools",
        "tf.Variable(0.0), tf.GradientTape(), tape.gradient(cost, w), "
        "keras.optimizers.SGD(learning_rate=...) and its apply_gradients([(gradient, w)]); at "
        "the end float(w.numpy()).",
    ),
    Rung(
        "the code shape",
        "w = tf.Variable(0.0)\n"
        "optimizer = keras.optimizers.SGD(learning_rate=learning_rate)\n"
        "for _ in range(num_steps):\n"
        "    with tf.GradientTape() as tape:\n"
        "        cost = ...\n"
        "    optimizer.apply_gradients([(..., w)])\n"
        "return float(w.numpy())",
    ),
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
            "start at 0 and take exactly num_steps steps with the learning rate given",
            error_hints=MINIMIZE_ERRORS,
            hidden=True,
        )
    ]


def check_minimize_quadratic(minimize_quadratic) -> None:
    """Check ``minimize_quadratic(coefficients, learning_rate, num_steps) -> float``."""
    run_cases(minimize_quadratic_cases(), minimize_quadratic)
