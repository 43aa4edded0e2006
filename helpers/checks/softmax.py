"""Checks for notebook 05: softmax regression."""

import math

import numpy as np

from helpers import softmax as ref_softmax
from helpers.checks.cases import Case, CaseTable
from helpers.checks.driver import run_cases
from helpers.checks.verifiers import close_to, scalar_close_to, unpack
from helpers.gradcheck import numerical_gradient


def _softmax_by_hand(Z):
    """Column softmax with plain Python floats (independent of NumPy broadcasting)."""
    Z = np.asarray(Z, dtype=float)
    out = np.empty_like(Z)
    for j in range(Z.shape[1]):
        column = [float(v) for v in Z[:, j]]
        top = max(column)
        exps = [math.exp(v - top) for v in column]
        out[:, j] = [e / math.fsum(exps) for e in exps]
    return out


def softmax_cases() -> CaseTable:
    """The public cases of ``softmax(Z) -> (C, m)``: columns are examples, stable for large
    logits."""
    worked = np.array([[5.0], [2.0], [-1.0], [3.0]])
    rng = np.random.default_rng(5)
    several = rng.normal(0, 2, size=(3, 5))
    scales = np.array([[1000.0, -2000.0, 0.5], [999.0, -2001.0, 0.5], [0.0, -2003.0, 0.5]])
    cases = [
        Case(
            "the worked example z = [5, 2, -1, 3]",
            (worked,),
            close_to(_softmax_by_hand(worked), rtol=1e-6),
            "t = exp(z); a = t / sum of t over the classes (axis=0, one column per example)",
        ),
        Case(
            "5 examples, one per column",
            (several,),
            close_to(_softmax_by_hand(several)),
            "normalize each column on its own: sum over axis=0 with keepdims=True",
        ),
        Case(
            "one example (m = 1) with 6 classes",
            (several[:, :1].repeat(2, axis=0),),
            close_to(_softmax_by_hand(several[:, :1].repeat(2, axis=0))),
            "the shape must stay (C, 1); do not squeeze it",
        ),
        Case(
            "large logits (1000)",
            (np.array([[1000.0], [1001.0], [998.0]]),),
            close_to(_softmax_by_hand(np.array([[1000.0], [1001.0], [998.0]]))),
            "exp(1000) overflows: subtract each column's maximum before exp",
        ),
        Case(
            "columns on very different scales",
            (scales,),
            close_to(_softmax_by_hand(scales)),
            "subtract each column's own maximum (Z.max(axis=0, keepdims=True)), "
            "not the maximum of the whole matrix",
        ),
        Case(
            "two equal logits",
            (np.zeros((2, 1)),),
            close_to([[0.5], [0.5]]),
            "equal logits give equal probabilities",
        ),
    ]
    return CaseTable("softmax", tuple(cases), ("Z",), ref_softmax.softmax)


def softmax_hidden_cases(rng) -> list:
    """Logits drawn from ``rng`` (any shape, large values too); expected from the reference."""
    C, m = rng.integers(2, 10), rng.integers(1, 10)
    Z = rng.normal(0, 3, (C, m))
    large = 200 * rng.normal(0, 1, (C, m)) + rng.uniform(-800, 800, (1, m))
    hint = "it must work for any (C, m) and any logits: one column per example, stable for large"
    return [
        Case("random logits", (Z,), close_to(ref_softmax.softmax(Z)), hint, hidden=True),
        Case(
            "large random logits", (large,), close_to(ref_softmax.softmax(large)), hint, hidden=True
        ),
    ]


def check_softmax(softmax) -> None:
    """Check ``softmax(Z) -> (C, m)``: columns are examples, stable for large logits."""
    run_cases(softmax_cases(), softmax)


def one_hot_cases() -> CaseTable:
    """The public cases of ``one_hot(labels, C) -> (C, m)`` and its ValueError for labels
    outside [0, C)."""
    cases = [
        Case(
            "labels [1, 0, 3] with C = 4",
            (np.array([1, 0, 3]), 4),
            close_to([[0, 1, 0], [1, 0, 0], [0, 0, 0], [0, 0, 1]]),
            "row j of column i is 1 when labels[i] == j: the result is (C, m), not (m, C)",
        ),
        Case(
            "one label (m = 1)",
            (np.array([2]), 3),
            close_to([[0], [0], [1]]),
            "the result keeps shape (C, 1) for a single example",
        ),
        Case(
            "C larger than the largest label",
            (np.array([0, 1, 1]), 5),
            close_to(np.eye(5)[:, [0, 1, 1]]),
            "use the C you are given, not labels.max() + 1",
        ),
        Case(
            "label equal to C",
            (np.array([0, 3]), 3),
            None,
            "check that every label is in [0, C) and raise ValueError otherwise",
            expect_error=ValueError,
        ),
        Case(
            "negative label",
            (np.array([0, -1]), 3),
            None,
            "a label of -1 would silently select the last class: raise ValueError",
            expect_error=ValueError,
        ),
    ]
    return CaseTable("one_hot", tuple(cases), ("labels", "C"), ref_softmax.one_hot)


def one_hot_hidden_cases(rng) -> list:
    """Labels and C drawn from ``rng``, and a label out of range."""
    C, m = int(rng.integers(2, 10)), int(rng.integers(1, 10))
    labels = rng.integers(0, C, m)
    outside = labels.copy()
    outside[rng.integers(0, m)] = C + rng.integers(0, 3)
    return [
        Case(
            "random labels",
            (labels, C),
            close_to(ref_softmax.one_hot(labels, C)),
            "column i has its 1 in row labels[i]: shape (C, m) for any C and m",
            hidden=True,
        ),
        Case(
            "a label out of range",
            (outside, C),
            None,
            "raise ValueError for any label outside [0, C)",
            expect_error=ValueError,
            hidden=True,
        ),
    ]


def check_one_hot(one_hot) -> None:
    """Check ``one_hot(labels, C) -> (C, m)`` and its ValueError for labels outside [0, C)."""
    run_cases(one_hot_cases(), one_hot)


def _cost_by_hand(Y_hat, Y):
    m = Y.shape[1]
    total = 0.0
    for i in range(m):
        for j in range(Y.shape[0]):
            if Y[j, i]:
                total -= Y[j, i] * math.log(Y_hat[j, i])
    return total / m


def cross_entropy_cost_cases() -> CaseTable:
    """The public cases of ``cross_entropy_cost(Y_hat, Y) -> float``: mean over examples of
    -Σ y log ŷ."""
    Y = ref_softmax.one_hot(np.array([0, 2, 1, 2]), 3)
    Y_hat = np.array([[0.7, 0.1, 0.2, 0.3], [0.2, 0.1, 0.5, 0.3], [0.1, 0.8, 0.3, 0.4]])
    sure = np.array([[1 - 2e-12, 1e-12], [1e-12, 1 - 2e-12], [1e-12, 1e-12]])
    Y2 = ref_softmax.one_hot(np.array([0, 1]), 3)
    one = Y_hat[:, :1]
    cases = [
        Case(
            "4 examples, 3 classes",
            (Y_hat, Y),
            scalar_close_to(_cost_by_hand(Y_hat, Y)),
            "J = -(1/m) * sum of Y * log(Y_hat); divide by m (columns), not by C*m",
        ),
        Case(
            "one example (m = 1)",
            (one, Y[:, :1]),
            scalar_close_to(-math.log(0.7)),
            "for one example J = -log of the probability given to the true class",
        ),
        Case(
            "confident and right",
            (sure, Y2),
            scalar_close_to(_cost_by_hand(sure, Y2), atol=1e-9),
            "only the true class's log-probability counts; the cost is then close to 0",
        ),
        Case(
            "uniform prediction over 3 classes",
            (np.full((3, 2), 1 / 3), Y2),
            scalar_close_to(math.log(3)),
            "the cost is positive: do not forget the minus sign",
        ),
    ]
    return CaseTable(
        "cross_entropy_cost", tuple(cases), ("Y_hat", "Y"), ref_softmax.cross_entropy_cost
    )


def cross_entropy_cost_hidden_cases(rng) -> list:
    """Predictions and labels drawn from ``rng``; expected from the reference."""
    C, m = int(rng.integers(2, 8)), int(rng.integers(1, 10))
    Y_hat = ref_softmax.softmax(rng.normal(0, 2, (C, m)))
    Y = ref_softmax.one_hot(rng.integers(0, C, m), C)
    return [
        Case(
            "random predictions",
            (Y_hat, Y),
            scalar_close_to(ref_softmax.cross_entropy_cost(Y_hat, Y)),
            "J = -(1/m) * sum of Y * log(Y_hat), for any number of classes and examples",
            hidden=True,
        )
    ]


def check_cross_entropy_cost(cross_entropy_cost) -> None:
    """Check ``cross_entropy_cost(Y_hat, Y) -> float``: mean over examples of -Σ y log ŷ."""
    run_cases(cross_entropy_cost_cases(), cross_entropy_cost)


def softmax_regression_step_cases() -> CaseTable:
    """The public cases of one gradient step of softmax regression, against the cost's
    numerical gradient."""
    rng = np.random.default_rng(11)
    C, n_x, m, lr = 3, 4, 6, 0.5
    W = rng.normal(0, 0.5, (C, n_x))
    b = rng.normal(0, 0.5, (C, 1))
    X = rng.normal(0, 1, (n_x, m))
    Y = ref_softmax.one_hot(rng.integers(0, C, m), C)

    def cost_of(W_, b_, X_=X, Y_=Y):
        return ref_softmax.cross_entropy_cost(ref_softmax.softmax(W_ @ X_ + b_), Y_)

    def expected_step(X_, Y_, rate):
        # From the numerical gradient of the cost: independent of any derivation.
        dW = numerical_gradient(lambda w: cost_of(w, b, X_, Y_), W.copy())
        db = numerical_gradient(lambda v: cost_of(W, v, X_, Y_), b.copy())
        return W - rate * dW, b - rate * db, cost_of(W, b, X_, Y_)

    def step_is(X_, Y_, rate, *, parts=("W", "b", "cost")):
        W_want, b_want, cost_want = expected_step(X_, Y_, rate)

        def verify(result):
            W_new, b_new, cost = unpack(result, ("W", "b", "cost"))
            if "W" in parts:
                close_to(W_want, rtol=1e-5, atol=1e-7, what="W")(W_new)
            if "b" in parts:
                close_to(b_want, rtol=1e-5, atol=1e-7, what="b")(b_new)
            if "cost" in parts:
                scalar_close_to(cost_want)(cost)

        return verify

    cases = [
        Case(
            "W and b after one step (3 classes, 4 features, 6 examples)",
            (W, b, X, Y, lr),
            step_is(X, Y, lr, parts=("W", "b")),
            "dZ = Y_hat - Y; dW = dZ @ X.T / m; db = dZ.sum(axis=1, keepdims=True) / m; "
            "then W - learning_rate * dW",
        ),
        Case(
            "the cost is the one before the update",
            (W, b, X, Y, lr),
            step_is(X, Y, lr, parts=("cost",)),
            "compute the cost from the forward pass with the old W and b",
        ),
        Case(
            "one example (m = 1)",
            (W, b, X[:, :1], Y[:, :1], lr),
            step_is(X[:, :1], Y[:, :1], lr),
            "divide the gradients by m = X.shape[1], the number of columns",
        ),
        Case(
            "learning rate 0 leaves W and b unchanged",
            (W, b, X, Y, 0.0),
            step_is(X, Y, 0.0, parts=("W", "b")),
            "move W and b by -learning_rate times their gradients",
        ),
    ]
    return CaseTable(
        "softmax_regression_step",
        tuple(cases),
        ("W", "b", "X", "Y", "learning_rate"),
        ref_softmax.softmax_regression_step,
        uses={"softmax": ref_softmax.softmax, "cross_entropy_cost": ref_softmax.cross_entropy_cost},
    )


def softmax_regression_step_hidden_cases(rng) -> list:
    """Weights, data and a learning rate drawn from ``rng``; expected from the reference."""
    C, n_x, m = int(rng.integers(2, 6)), int(rng.integers(2, 7)), int(rng.integers(1, 9))
    W, b = rng.normal(0, 0.5, (C, n_x)), rng.normal(0, 0.5, (C, 1))
    X, Y = rng.normal(0, 1, (n_x, m)), ref_softmax.one_hot(rng.integers(0, C, m), C)
    rate = float(rng.uniform(0.05, 1.0))
    W_want, b_want, cost_want = ref_softmax.softmax_regression_step(W, b, X, Y, rate)

    def verify(result):
        W_new, b_new, cost = unpack(result, ("W", "b", "cost"))
        close_to(W_want, rtol=1e-6, atol=1e-8, what="W")(W_new)
        close_to(b_want, rtol=1e-6, atol=1e-8, what="b")(b_new)
        scalar_close_to(cost_want)(cost)

    hint = "the step must hold for any number of classes, features and examples"
    return [Case("random weights and data", (W, b, X, Y, rate), verify, hint, hidden=True)]


def check_softmax_regression_step(softmax_regression_step) -> None:
    """Check one gradient step of softmax regression against the cost's numerical gradient."""
    run_cases(softmax_regression_step_cases(), softmax_regression_step)
