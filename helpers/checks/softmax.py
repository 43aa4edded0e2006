"""Checks for notebook 05: softmax regression."""

import math

import numpy as np

from helpers import softmax as ref_softmax
from helpers.checks.cases import Case, CaseTable, Mismatch
from helpers.checks.driver import run_cases
from helpers.checks.hints import Rung
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


_ROW_MAXIMUM = (
    "you subtracted each row's maximum (one number per class): softmax is unchanged only when "
    "the same number is subtracted from a whole column (one example), so subtract each column's "
    "maximum"
)
_OVER_EXAMPLES = (
    "you normalized each class over the examples (each row): each column is one example, "
    "normalized over its classes"
)
_WHOLE_SUM = (
    "you divided by the sum over the whole matrix: each column (one example) is divided by its "
    "own sum, so that every column adds up to 1"
)
_OVERFLOW = (
    "exponentials of logits near 1000 overflow: subtract each column's maximum from it before "
    "taking exponentials (it does not change the result)"
)


def _softmax_mistakes(Z) -> tuple:
    Z = np.asarray(Z, dtype=float)
    with np.errstate(all="ignore"):
        by_row = np.exp(Z - Z.max(axis=1, keepdims=True))
        by_column = np.exp(Z - Z.max(axis=0, keepdims=True))
        return (
            (by_row / by_row.sum(axis=0, keepdims=True), _ROW_MAXIMUM),
            (by_row / by_row.sum(axis=1, keepdims=True), _OVER_EXAMPLES),
            (by_column / by_column.sum(), _WHOLE_SUM),
        )


def _softmax_is(Z, **tolerance):
    return close_to(_softmax_by_hand(Z), mistakes=_softmax_mistakes(Z), **tolerance)


def softmax_cases() -> CaseTable:
    """The public cases of ``softmax(Z) -> (C, m)``: columns are examples, stable for large
    logits."""
    worked = np.array([[5.0], [2.0], [-1.0], [3.0]])
    rng = np.random.default_rng(5)
    several = rng.normal(0, 2, size=(3, 5))
    scales = np.array([[1000.0, -2000.0, 0.5], [999.0, -2001.0, 0.5], [0.0, -2003.0, 0.5]])
    per_column = (
        "each column is one example: its exponentials divided by their sum over the classes"
    )
    cases = [
        Case("the worked example z = [5, 2, -1, 3]", (worked,), _softmax_is(worked), per_column),
        Case("5 examples, one per column", (several,), _softmax_is(several), per_column),
        Case(
            "one example (m = 1) with 6 classes",
            (several[:, :1].repeat(2, axis=0),),
            _softmax_is(several[:, :1].repeat(2, axis=0)),
            "a single example keeps its column shape (C, 1)",
        ),
        Case(
            "large logits (1000)",
            (np.array([[1000.0], [1001.0], [998.0]]),),
            _softmax_is(np.array([[1000.0], [1001.0], [998.0]])),
            _OVERFLOW,
        ),
        Case(
            "columns on very different scales",
            (scales,),
            _softmax_is(scales),
            "subtract each column's own maximum, not the whole matrix's: a column far below it "
            "underflows to 0 / 0",
        ),
        Case(
            "two equal logits",
            (np.zeros((2, 1)),),
            close_to([[0.5], [0.5]]),
            "equal logits give equal probabilities",
        ),
    ]
    return CaseTable("softmax", tuple(cases), ("Z",), ref_softmax.softmax, ladder=SOFTMAX_LADDER)


SOFTMAX_LADDER = (
    Rung(
        "the idea",
        "Each column is one example: exponentiate its logits and divide by their sum over the "
        "classes. Exponentials of large logits overflow; subtracting one number from a whole "
        "column changes nothing, so subtract each column's maximum first.",
    ),
    Rung(
        "the tools",
        "Z.max(axis=0, keepdims=True) is each column's maximum; np.exp; "
        "T.sum(axis=0, keepdims=True) is each column's sum, shape (1, m), which broadcasts.",
    ),
    Rung(
        "the code shape",
        "T = np.exp(Z - ...)\nreturn T / ...",
    ),
)


def softmax_hidden_cases(rng) -> list:
    """Logits drawn from ``rng`` (any shape, large values too); expected from the reference."""
    C, m = rng.integers(2, 10), rng.integers(1, 10)
    Z = rng.normal(0, 3, (C, m))
    large = 200 * rng.normal(0, 1, (C, m)) + rng.uniform(-800, 800, (1, m))
    hint = "for any number of classes and examples, and any logits: one column per example, stable"
    return [
        Case("random logits", (Z,), close_to(ref_softmax.softmax(Z)), hint, hidden=True),
        Case(
            "large random logits", (large,), close_to(ref_softmax.softmax(large)), hint, hidden=True
        ),
    ]


def check_softmax(softmax) -> None:
    """Check ``softmax(Z) -> (C, m)``: columns are examples, stable for large logits."""
    run_cases(softmax_cases(), softmax)


_INFERRED_C = (
    "your result has as many rows as the largest label plus one: use the C you are given (a "
    "batch need not contain every class)"
)
_ONE_BASED = "your ones sit one row too high: labels count from 0, so label j goes in row j"
_LABEL_RANGE = "every label must lie in 0 … C − 1: check them all and raise ValueError otherwise"


def _one_hot_is(labels, C):
    expected = np.eye(C)[:, labels]

    def verify(result):
        values = np.asarray(result) if isinstance(result, list) else result
        shape = getattr(values, "shape", None)
        if shape is not None and len(shape) == 2 and shape[0] == labels.max() + 1 != C:
            raise Mismatch(f"an array of shape {expected.shape}", f"shape {shape}", _INFERRED_C)
        close_to(expected, mistakes=((np.eye(C)[:, labels - 1], _ONE_BASED),))(result)

    return verify


def one_hot_cases() -> CaseTable:
    """The public cases of ``one_hot(labels, C) -> (C, m)`` and its ValueError for labels
    outside [0, C)."""
    cases = [
        Case(
            "labels [1, 0, 3] with C = 4",
            (np.array([1, 0, 3]), 4),
            _one_hot_is(np.array([1, 0, 3]), 4),
            "column i holds a 1 in the row of its label and 0 elsewhere: C rows, one column per "
            "example",
        ),
        Case(
            "one label (m = 1)",
            (np.array([2]), 3),
            _one_hot_is(np.array([2]), 3),
            "a single example keeps its column shape (C, 1)",
        ),
        Case(
            "C larger than the largest label",
            (np.array([0, 1, 1]), 5),
            _one_hot_is(np.array([0, 1, 1]), 5),
            _INFERRED_C,
        ),
        Case(
            "label equal to C",
            (np.array([0, 3]), 3),
            None,
            _LABEL_RANGE,
            expect_error=ValueError,
        ),
        Case(
            "negative label",
            (np.array([0, -1]), 3),
            None,
            "a label of −1 would silently select the last class: check the lower end too and "
            "raise ValueError",
            expect_error=ValueError,
        ),
    ]
    return CaseTable(
        "one_hot", tuple(cases), ("labels", "C"), ref_softmax.one_hot, ladder=ONE_HOT_LADDER
    )


ONE_HOT_LADDER = (
    Rung(
        "the idea",
        "Column i is all zeros except a 1 in row labels[i]. Check first that every label lies "
        "in 0 … C − 1: NumPy's indexing would accept −1 silently.",
    ),
    Rung(
        "the tools",
        "np.eye(C) has its 1 of column j in row j, so selecting its columns by the labels gives "
        "the result; np.any((labels < 0) | (labels >= C)) finds a bad label.",
    ),
    Rung(
        "the code shape",
        "if np.any(...): raise ValueError(...)\nreturn np.eye(C)[:, ...]",
    ),
)


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
            "column i holds a 1 in the row of its label, for any C and m",
            hidden=True,
        ),
        Case(
            "a label out of range",
            (outside, C),
            None,
            _LABEL_RANGE,
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


_SUMMED = (
    "you summed over the examples: the cost is the mean, so divide by the number of examples m "
    "(the columns)"
)
_EVERY_ENTRY = (
    "you divided by the number of entries (C × m): divide by the number of examples m only"
)
_MINUS = "the cost is positive: each example adds minus the log of its true class's probability"
_BINARY = (
    "that is the two-class (binary) cross-entropy: with softmax, only the true class's "
    "log-probability counts, and the other classes add nothing"
)


def _cost_is(Y_hat, Y, **tolerance):
    expected = _cost_by_hand(Y_hat, Y)
    m, C = Y.shape[1], Y.shape[0]
    with np.errstate(all="ignore"):
        binary = float(-np.sum(Y * np.log(Y_hat) + (1 - Y) * np.log(1 - Y_hat)) / m)
    mistakes = [
        (expected * m, _SUMMED),
        (expected / C, _EVERY_ENTRY),
        (binary, _BINARY),
        (-expected, _MINUS),
    ]
    if m == 1:  # the sum is the mean: leave room for the others
        mistakes = mistakes[1:]
    return scalar_close_to(expected, mistakes=tuple(mistakes), **tolerance)


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
            _cost_is(Y_hat, Y),
            "the cost is the mean over the m examples of minus the log-probability of the true "
            "class",
        ),
        Case(
            "one example (m = 1)",
            (one, Y[:, :1]),
            _cost_is(one, Y[:, :1]),
            "for one example the cost is minus the log of the probability given to the true class",
        ),
        Case(
            "confident and right",
            (sure, Y2),
            _cost_is(sure, Y2, atol=1e-9),
            "only the true class's log-probability counts; the cost is then close to 0",
        ),
        Case(
            "uniform prediction over 3 classes",
            (np.full((3, 2), 1 / 3), Y2),
            scalar_close_to(math.log(3)),
            _MINUS,
        ),
    ]
    return CaseTable(
        "cross_entropy_cost",
        tuple(cases),
        ("Y_hat", "Y"),
        ref_softmax.cross_entropy_cost,
        ladder=COST_LADDER,
    )


COST_LADDER = (
    Rung(
        "the idea",
        "For each example (column), only the true class's probability counts: the example's "
        "loss is minus its log. The cost is the mean of the losses over the m examples.",
    ),
    Rung(
        "the tools",
        "Y * np.log(Y_hat) keeps the true class's log-probability in each column (the rest "
        "are 0); np.sum adds them; m = Y.shape[1]; return float(...).",
    ),
    Rung("the code shape", "m = Y.shape[1]\nreturn float(-np.sum(...) / m)"),
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
            "the mean over the examples of minus the log-probability of the true class, for any "
            "number of classes and examples",
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
        m_ = X_.shape[1]
        uphill = (2 * W - W_want, 2 * b - b_want)
        times_m = (W - m_ * (W - W_want), b - m_ * (b - b_want))
        after = cost_of(W_want, b_want, X_, Y_)

        def verify(result):
            W_new, b_new, cost = unpack(result, ("W", "b", "cost"))
            if "W" in parts:
                mistakes = ((uphill[0], _UPHILL), (times_m[0], _TIMES_M))
                close_to(W_want, rtol=1e-5, atol=1e-7, what="W", mistakes=mistakes)(W_new)
            if "b" in parts:
                mistakes = ((uphill[1], _UPHILL), (times_m[1], _TIMES_M))
                close_to(b_want, rtol=1e-5, atol=1e-7, what="b", mistakes=mistakes)(b_new)
            if "cost" in parts:
                scalar_close_to(cost_want, mistakes=((after, _COST_AFTER),))(cost)

        return verify

    def case(name, args, verify, hint):
        return Case(name, args, verify, hint, error_hints=_STEP_ERRORS)

    cases = [
        case(
            "W and b after one step (3 classes, 4 features, 6 examples)",
            (W, b, X, Y, lr),
            step_is(X, Y, lr, parts=("W", "b")),
            "one step moves W and b against the gradients of the cost, averaged over the "
            "examples, scaled by the learning rate",
        ),
        case(
            "the cost is the one before the update",
            (W, b, X, Y, lr),
            step_is(X, Y, lr, parts=("cost",)),
            _COST_AFTER,
        ),
        case(
            "one example (m = 1)",
            (W, b, X[:, :1], Y[:, :1], lr),
            step_is(X[:, :1], Y[:, :1], lr),
            "the number of examples m is the number of columns of X, here 1",
        ),
        case(
            "learning rate 0 leaves W and b unchanged",
            (W, b, X, Y, 0.0),
            step_is(X, Y, 0.0, parts=("W", "b")),
            "the step is the learning rate times the gradient: with a rate of 0, nothing moves",
        ),
    ]
    return CaseTable(
        "softmax_regression_step",
        tuple(cases),
        ("W", "b", "X", "Y", "learning_rate"),
        ref_softmax.softmax_regression_step,
        uses={"softmax": ref_softmax.softmax, "cross_entropy_cost": ref_softmax.cross_entropy_cost},
        ladder=STEP_LADDER,
    )


_UPHILL = (
    "your step goes uphill: W and b must move against their gradients; check the sign of your "
    "gradient with respect to Z"
)
_TIMES_M = (
    "your step is m times too large: the cost is a mean over the m examples, so its gradients "
    "are averages over the examples too"
)
_COST_AFTER = (
    "report the cost of the W and b you were given (the forward pass before the step), not after it"
)
_DW_TRANSPOSED = "your gradient of W is transposed: it must have W's shape, classes by features"
_STEP_ERRORS = (
    (r"could not be broadcast together with shapes \((\d+),(\d+)\) \(\2,\1\)", _DW_TRANSPOSED),
)

# A derivation: no rung gives dW or db; the last gives dZ and asks for the rest.
STEP_LADDER = (
    Rung(
        "the idea",
        "One step: the forward pass (softmax of W X + b), the cost, the gradients of the cost "
        "with respect to W and b, and a move of each against its gradient. The gradients come "
        "from the chain rule through Z = W X + b, as for any linear layer.",
    ),
    Rung(
        "the first steps",
        "Start from dZ = ∂J/∂Z, one column per example, the shape of Z. The cost is a mean over "
        "the examples, so each column carries a factor 1/m. Differentiate the cross-entropy and "
        "the softmax together for one example first: the result is short.",
    ),
    Rung(
        "an intermediate result",
        "∂J/∂Z = (Ŷ − Y) / m: softmax followed by cross-entropy simplifies to the prediction "
        "minus the one-hot labels. Now the rest is yours: through Z = W X + b, what are dW and "
        "db, and which shapes must they have (those of W and of b)?",
    ),
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
