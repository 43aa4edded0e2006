"""Checks for notebooks 03 and 04: batch norm's forward and backward pass, and at test time."""

import math

import numpy as np

from helpers import batchnorm as ref_batchnorm
from helpers.checks.cases import Case, CaseTable, Mismatch, short
from helpers.checks.driver import run_cases
from helpers.checks.hints import Rung
from helpers.checks.verifiers import close_to, unpack
from helpers.gradcheck import numerical_gradient


def _normalized_by_hand(Z, gamma, beta, eps, mu=None, var=None):
    """Batch norm row by row with plain Python floats (independent of NumPy broadcasting).

    Without ``mu``/``var`` each row's own mean and population variance are used.
    """
    Z = np.asarray(Z, dtype=float)
    out = np.empty_like(Z)
    for i, row in enumerate(Z.tolist()):
        m = len(row)
        row_mu = math.fsum(row) / m if mu is None else float(mu[i][0])
        row_var = math.fsum((z - row_mu) ** 2 for z in row) / m if var is None else float(var[i][0])
        g, b = float(gamma[i][0]), float(beta[i][0])
        out[i] = [g * (z - row_mu) / math.sqrt(row_var + eps) + b for z in row]
    return out


def _each_close_to(names, expected, *, rtol=1e-6, atol=1e-9, mistakes=None):
    """Verifier: a tuple whose items are close to ``expected`` (``None`` = not checked).

    ``mistakes`` maps an item's name to ((what a mistake gives for it, hint), ...)."""
    mistakes = mistakes or {}

    def verify(result):
        for name, got, want in zip(names, unpack(result, names), expected, strict=True):
            if want is None:
                continue
            check = close_to(want, rtol=rtol, atol=atol, what=name, mistakes=mistakes.get(name, ()))
            try:
                check(got)
            except Mismatch as mismatch:
                raise Mismatch(
                    f"{name} = {mismatch.expected}", f"{name} = {mismatch.got}", mismatch.hint
                ) from None

    return verify


_FORWARD = ("Z_tilde", "cache")
_CACHE = ("Z", "Z_norm", "mu", "var", "gamma", "eps")


_KEEPDIMS = (
    "your mean and variance lost the unit axis: a statistic over the examples is one number per "
    "unit and must stay a column (n_units, 1) to line up with the rows of Z; NumPy's keepdims "
    "option keeps that axis"
)
_PER_EXAMPLE = (
    "your statistics are per example (over each column) instead of per unit: average each row "
    "over the examples of the batch"
)
_SAMPLE_VARIANCE = (
    "you divided the variance by m − 1: batch norm uses the batch's own (population) variance, "
    "divided by m"
)
_EPS_OUTSIDE = "ε belongs inside the square root: add it to the variance, then take the root"
_FIXED_EPS = "your result is the one for a tiny ε, not the ε given: use the eps argument"
_SHIFT_BEFORE_SCALE = (
    "you added β before scaling by γ: scale the normalized values first, then shift"
)


def _forward_mistakes(Z, gamma, beta, eps) -> tuple:
    """What the common mistakes give for Z_tilde, each with its hint."""
    Z = np.asarray(Z, dtype=float)

    def forward(mu, var, *, root=None, shift_first=False):
        with np.errstate(all="ignore"):
            Z_norm = (Z - mu) / (np.sqrt(var + eps) if root is None else root)
            return gamma * (Z_norm + beta) if shift_first else gamma * Z_norm + beta

    mu, var = Z.mean(axis=1, keepdims=True), Z.var(axis=1, keepdims=True)
    mistakes = [
        (forward(Z.mean(axis=0), Z.var(axis=0)), _PER_EXAMPLE),
        (forward(Z.mean(axis=0, keepdims=True), Z.var(axis=0, keepdims=True)), _PER_EXAMPLE),
        (
            forward(mu, Z.var(axis=1, ddof=1, keepdims=True)) if Z.shape[1] > 1 else Z,
            _SAMPLE_VARIANCE,
        ),
        (forward(mu, var, root=np.sqrt(var) + eps), _EPS_OUTSIDE),
        (forward(mu, var, root=np.sqrt(var + 1e-8)), _FIXED_EPS),
        (forward(mu, var, shift_first=True), _SHIFT_BEFORE_SCALE),
    ]
    if Z.shape[0] == Z.shape[1]:  # without keepdims, a square Z broadcasts the wrong way silently
        mistakes.insert(0, (forward(Z.mean(axis=1), Z.var(axis=1)), _KEEPDIMS))
    return tuple(mistakes)


# NumPy's error when a statistic of shape (n_units,) meets Z of shape (n_units, m)
_FORWARD_ERRORS = (
    (r"could not be broadcast together with shapes \(\d+,\d+\) \(\d+,\)", _KEEPDIMS),
)


def _forward_gives(Z, gamma, beta, eps):
    return _each_close_to(
        _FORWARD,
        (_normalized_by_hand(Z, gamma, beta, eps), None),
        mistakes={"Z_tilde": _forward_mistakes(Z, gamma, beta, eps)},
    )


def _cache_holds(Z, gamma, beta, eps):
    Z_norm = _normalized_by_hand(Z, np.ones_like(gamma), np.zeros_like(beta), eps)
    mu = Z.mean(axis=1, keepdims=True)
    want = (Z, Z_norm, mu, ((Z - mu) ** 2).mean(axis=1, keepdims=True), gamma, np.array(eps))

    def verify(result):
        _each_close_to(_CACHE, want)(tuple(np.asarray(c, dtype=float) for c in _cache_of(result)))

    return verify


def batchnorm_forward_cases() -> CaseTable:
    """The public cases of ``batchnorm_forward(Z, gamma, beta, eps) -> (Z_tilde, cache)`` on
    ``(n_units, m)``."""
    rng = np.random.default_rng(3)
    Z_worked = np.array([[1.0, 2.0, 3.0, 6.0], [10.0, 10.0, 20.0, 40.0]])
    g_worked, b_worked = np.array([[1.0], [2.0]]), np.array([[0.0], [1.0]])
    Z_scales = rng.normal(0, 1, (3, 5)) * np.array([[0.1], [1.0], [100.0]]) + [[5], [-2], [50]]
    g3, b3 = rng.uniform(0.5, 2, (3, 1)), rng.normal(0, 1, (3, 1))
    pair, one, zero = np.array([[0.0, 2.0]]), np.ones((1, 1)), np.zeros((1, 1))
    identity_mu, identity_var = (
        Z_scales.mean(axis=1, keepdims=True),
        Z_scales.var(axis=1, keepdims=True),
    )
    square = rng.normal(0, 1, (3, 3)) * np.array([[1.0], [3.0], [0.5]]) + [[1], [-4], [9]]
    per_unit = "batch norm normalizes each unit (row) with its own mean and variance over the batch"

    def case(name, args, hint, verify=None):
        verify = verify or _forward_gives(*args)
        return Case(name, args, verify, hint, error_hints=_FORWARD_ERRORS)

    cases = [
        case(
            "a worked example: 2 units, 4 examples",
            (Z_worked, g_worked, b_worked, 1e-8),
            per_unit,
        ),
        case(
            "units on very different scales: statistics per unit (row)",
            (Z_scales, g3, b3, 1e-8),
            per_unit,
        ),
        case(
            "as many examples as units (3 × 3): the statistics stay columns",
            (square, g3, b3, 1e-8),
            per_unit,
        ),
        case(
            "two examples 0 and 2: the variance divides by m",
            (pair, one, zero, 1e-8),
            _SAMPLE_VARIANCE,
        ),
        case(
            "eps = 1 goes inside the square root",
            (pair, one, zero, 1.0),
            "use the eps you are given, inside the square root with the variance",
        ),
        case(
            "a unit that is constant over the batch",
            (np.full((1, 3), 3.0), 2 * one, 0.5 * one, 1e-8),
            "the variance is 0 here: ε keeps the division finite, and every output is β",
        ),
        case(
            "gamma = sqrt(var + eps), beta = mu undo the normalization",
            (Z_scales, np.sqrt(identity_var + 1e-8), identity_mu, 1e-8),
            _SHIFT_BEFORE_SCALE,
            _each_close_to(_FORWARD, (Z_scales, None), rtol=1e-9, atol=1e-9),
        ),
        case(
            "the cache",
            (Z_worked, g_worked, b_worked, 1e-8),
            _CACHE_ORDER,
            _cache_holds(Z_worked, g_worked, b_worked, 1e-8),
        ),
    ]
    return CaseTable(
        "batchnorm_forward",
        tuple(cases),
        ("Z", "gamma", "beta", "eps"),
        ref_batchnorm.batchnorm_forward,
        ladder=FORWARD_LADDER,
    )


_CACHE_ORDER = (
    "the cache must be the tuple of Z, Z_norm, mu, var, gamma and eps, in this order: the "
    "backward pass unpacks it"
)

FORWARD_LADDER = (
    Rung(
        "the idea",
        "Four lines, one per equation: the mean and the variance of each unit (each row) over "
        "the batch (the columns), then Z_norm, then Z_tilde. The statistics have shape "
        "(n_units, 1) and broadcast over the m columns.",
    ),
    Rung(
        "the tools",
        "Z.mean(axis=1, keepdims=True) and Z.var(axis=1, keepdims=True) (NumPy's var divides "
        "by m); np.sqrt(var + eps); then gamma * Z_norm + beta.",
    ),
    Rung(
        "the code shape",
        "mu = ...\nvar = ...\nZ_norm = (Z - mu) / ...\nZ_tilde = ...\n"
        "cache = (Z, Z_norm, mu, var, gamma, eps)",
    ),
)


def _random_layer(rng):
    """``(Z, gamma, beta, eps)`` of a random shape, units on different scales."""
    n, m = int(rng.integers(1, 6)), int(rng.integers(2, 10))
    Z = rng.normal(0, 1, (n, m)) * rng.uniform(0.1, 10, (n, 1)) + rng.normal(0, 5, (n, 1))
    gamma, beta = rng.uniform(0.5, 2, (n, 1)), rng.normal(0, 1, (n, 1))
    return Z, gamma, beta, float(rng.choice([1e-8, rng.uniform(1e-3, 0.5)]))


def batchnorm_forward_hidden_cases(rng) -> list:
    """A layer drawn from ``rng``: Z_tilde and the cache, expected from the reference."""
    args = _random_layer(rng)
    Z_tilde, cache = ref_batchnorm.batchnorm_forward(*args)
    hint = "each unit (row) normalized with its own statistics over the batch, for any shape and ε"
    return [
        Case(
            "Z_tilde of a random layer",
            args,
            _each_close_to(_FORWARD, (Z_tilde, None)),
            hint,
            error_hints=_FORWARD_ERRORS,
            hidden=True,
        ),
        Case(
            "the cache of a random layer",
            args,
            lambda result: _each_close_to(_CACHE, cache)(
                tuple(np.asarray(c, dtype=float) for c in _cache_of(result))
            ),
            _CACHE_ORDER,
            hidden=True,
        ),
    ]


def _cache_of(result):
    cache = unpack(result, _FORWARD)[1]
    if not isinstance(cache, tuple) or len(cache) != len(_CACHE):
        raise Mismatch(
            f"cache = the tuple ({', '.join(_CACHE)})", f"cache = {short(cache)}", _CACHE_ORDER
        )
    return cache


def check_batchnorm_forward(batchnorm_forward) -> None:
    """Check ``batchnorm_forward(Z, gamma, beta, eps) -> (Z_tilde, cache)`` on ``(n_units, m)``."""
    run_cases(batchnorm_forward_cases(), batchnorm_forward)


def _without_eps(upstream, cache):
    """dZ with ε left out of the standard deviation (0 / 0 for a constant unit: not a match)."""
    with np.errstate(all="ignore"):
        return ref_batchnorm.batchnorm_backward(upstream, (*cache[:5], 0.0))[0]


def _backward_case(rng, n, m, eps, dZ_tilde=None):
    """Return ``(args, expected, mistakes)``: a cache from the reference forward, numerical
    gradients, and the dZ of the two commonest mistakes with their hints."""
    Z = rng.normal(0, 2, (n, m)) + rng.normal(0, 3, (n, 1))
    gamma, beta = rng.uniform(0.5, 2, (n, 1)), rng.normal(0, 1, (n, 1))
    upstream = rng.normal(0, 1, (n, m)) if dZ_tilde is None else dZ_tilde
    _, cache = ref_batchnorm.batchnorm_forward(Z, gamma, beta, eps)

    def cost(Z_=Z, gamma_=gamma, beta_=beta):  # J = Σ dZ_tilde · Z_tilde has ∂J/∂Z_tilde = dZ_tilde
        return float(np.sum(upstream * ref_batchnorm.batchnorm_forward(Z_, gamma_, beta_, eps)[0]))

    expected = (
        numerical_gradient(lambda z: cost(Z_=z), Z.copy()),
        numerical_gradient(lambda g: cost(gamma_=g), gamma.copy()),
        numerical_gradient(lambda b: cost(beta_=b), beta.copy()),
    )
    # Forgetting γ gives the gradient of a forward pass with γ = 1; dropping the terms through
    # mu and var treats them as constants: dZ_tilde · γ / sqrt(var + eps); or both at once.
    no_gamma = numerical_gradient(
        lambda z: float(
            np.sum(upstream * ref_batchnorm.batchnorm_forward(z, np.ones_like(gamma), beta, eps)[0])
        ),
        Z.copy(),
    )
    scale = np.sqrt(Z.var(axis=1, keepdims=True) + eps)
    mistakes = {
        "dZ": (
            (no_gamma, _FORGOT_GAMMA),
            (upstream * gamma / scale, _DROPPED_BATCH_TERMS),
            (upstream / scale, _BOTH_MISTAKES),
            (_without_eps(upstream, cache), _NO_EPS),
        ),
        "dgamma": ((expected[1] / m, _MEAN_NOT_SUM),),
        "dbeta": ((expected[2] / m, _MEAN_NOT_SUM),),
    }
    return (upstream, cache), expected, mistakes


_FORGOT_GAMMA = (
    "your dZ is the one for a γ of 1: the gradient reaches Z_norm through γ, so the upstream "
    "gradient is multiplied by γ before anything else"
)
_BOTH_MISTAKES = (
    "two things are missing: the factor γ on the way to Z_norm, and the paths through the mean "
    "and the variance, which depend on every example of the batch and add two terms"
)
_DROPPED_BATCH_TERMS = (
    "your dZ treats the mean and the variance as constants (only the direct path, through "
    "Z_norm); but each depends on every example of the batch, and their paths add two terms"
)
_MEAN_NOT_SUM = (
    "your dgamma and dbeta are averages over the batch: like a bias's gradient here, they are "
    "sums over the examples"
)
_NO_EPS = (
    "the standard deviation of the forward pass had ε inside the root: use the same one, with the "
    "ε of the cache"
)


def _backward_gives(names, expected, mistakes):
    """Verifier: ``(dZ, dgamma, dbeta)`` close to ``expected`` (``None`` = not checked); a
    gradient that matches one of ``mistakes`` (by name) gets that mistake's hint."""
    return _each_close_to(names, expected, rtol=1e-5, atol=1e-7, mistakes=mistakes)


def batchnorm_backward_cases() -> CaseTable:
    """The public cases of ``batchnorm_backward(dZ_tilde, cache) -> (dZ, dgamma, dbeta)``,
    against numerical gradients of the reference forward pass (caches are
    ``(Z, Z_norm, mu, var, gamma, eps)``)."""
    rng = np.random.default_rng(4)
    names = ("dZ", "dgamma", "dbeta")
    general = _backward_case(rng, 3, 6, 1e-8)
    one_column = np.zeros((2, 5))
    one_column[:, 2] = [1.0, -2.0]
    single = _backward_case(rng, 2, 5, 1e-8, dZ_tilde=one_column)
    big_eps = _backward_case(rng, 2, 4, 0.5)
    ones = _backward_case(rng, 2, 4, 1e-8, dZ_tilde=np.ones((2, 4)))
    lone = _backward_case(rng, 3, 1, 1e-8)

    def case(name, made, hint, parts=names):
        args, expected, mistakes = made
        wanted = tuple(e if n in parts else None for n, e in zip(names, expected, strict=True))
        return Case(name, args, _backward_gives(names, wanted, mistakes), hint)

    cases = [
        case(
            "dgamma and dbeta (3 units, 6 examples)",
            general,
            "dβ and dγ collect the upstream gradient of each unit over the batch, like a bias and "
            "a scale; dγ weighs each example's term by its Z_norm",
            parts=("dgamma", "dbeta"),
        ),
        case(
            "dZ (3 units, 6 examples), compared with a numerical gradient",
            general,
            "dZ collects three paths from each example: directly through its own Z_norm, through "
            "the mean and through the variance of the batch",
        ),
        case(
            "gradient arriving at one example only",
            single,
            "the mean and the variance depend on every example, so every column of dZ gets a "
            "share even where the upstream gradient is 0",
        ),
        case(
            "the same gradient for every example",
            ones,
            "shifting every example of a unit by the same amount does not change Z_norm: dZ is 0",
        ),
        case("eps = 0.5", big_eps, _NO_EPS),
        case(
            "a batch of one example",
            lone,
            "with a batch of one every Z_norm is 0 whatever Z is, so dZ is 0 (and nothing is nan)",
        ),
    ]
    return CaseTable(
        "batchnorm_backward",
        tuple(cases),
        ("dZ_tilde", "cache"),
        ref_batchnorm.batchnorm_backward,
        ladder=BACKWARD_LADDER,
    )


# A derivation: no rung gives dZ's final formula; the last gives dσ² and dμ and asks for the rest.
BACKWARD_LADDER = (
    Rung(
        "the idea",
        "dβ and dγ are sums over the batch, like a bias's and a scale's gradient. For dZ, "
        "follow the graph z → (μ, σ²) → z_norm → z̃ backwards, one node at a time: every z(i) "
        "reaches the cost directly through its own z_norm(i), and also through μ and σ², which "
        "depend on every example.",
    ),
    Rung(
        "the first steps",
        "Write dz_norm(i) = γ · dz̃(i) and σ̂ = √(σ² + ε); every product is element-wise, per "
        "unit. Then find, in this order: dσ² (how J changes with σ², through every z_norm), "
        "dμ (through every z_norm, and through σ²), and last dz(i) as the sum of its three "
        "paths.",
    ),
    Rung(
        "an intermediate result",
        "dσ² = −1/(2σ̂³) · Σᵢ dz_norm(i) · (z(i) − μ), and dμ = −(1/σ̂) · Σᵢ dz_norm(i) (the "
        "term of dμ through σ² vanishes, because Σᵢ (z(i) − μ) = 0). Now the rest is yours: "
        "what do ∂z_norm(i)/∂z(i), ∂σ²/∂z(i) and ∂μ/∂z(i) contribute to dz(i)? Check your "
        "answer on the case of a batch whose gradient is the same for every example: dZ must "
        "be 0.",
    ),
)


def batchnorm_backward_hidden_cases(rng) -> list:
    """A cache of the reference forward pass on a random layer and a random upstream gradient;
    expected from the reference backward pass."""
    Z, gamma, beta, eps = _random_layer(rng)
    _, cache = ref_batchnorm.batchnorm_forward(Z, gamma, beta, eps)
    upstream = rng.normal(0, 1, Z.shape)
    expected = ref_batchnorm.batchnorm_backward(upstream, cache)
    return [
        Case(
            "a random layer",
            (upstream, cache),
            _each_close_to(("dZ", "dgamma", "dbeta"), expected, rtol=1e-5, atol=1e-7),
            "the three gradients must hold for any shape and ε: each depends on the whole batch",
            hidden=True,
        )
    ]


def check_batchnorm_backward(batchnorm_backward) -> None:
    """Check ``batchnorm_backward(dZ_tilde, cache) -> (dZ, dgamma, dbeta)`` against numerical
    gradients of the reference forward pass (caches are ``(Z, Z_norm, mu, var, gamma, eps)``)."""
    run_cases(batchnorm_backward_cases(), batchnorm_backward)


_RUNNING = ("running_mu", "running_var", "mu", "var", "momentum")


def update_running_averages_cases() -> CaseTable:
    """The public cases of ``update_running_averages(running_mu, running_var, mu, var,
    momentum)``."""
    names = ("new_running_mu", "new_running_var")
    running_mu, running_var = np.array([[0.0], [1.0], [-2.0]]), np.array([[1.0], [4.0], [0.5]])
    mu, var = np.array([[2.0], [3.0], [-1.0]]), np.array([[0.2], [9.0], [0.5]])

    def blend(momentum):
        return tuple(
            np.array(
                [[momentum * r + (1 - momentum) * b] for (r,), (b,) in zip(run, now, strict=True)]
            )
            for run, now in ((running_mu, mu), (running_var, var))
        )

    def mistakes(momentum):
        keep, take = blend(momentum), blend(1 - momentum)
        return {
            "new_running_mu": (
                (take[0], _MOMENTUM_FOR_BATCH),
                (keep[1], _SWAPPED_STATISTICS),
            ),
            "new_running_var": (
                (take[1], _MOMENTUM_FOR_BATCH),
                (momentum * running_var + (1 - momentum) * mu, _VARIANCE_FROM_MEAN),
            ),
        }

    def case(name, momentum, expected, hint):
        return Case(
            name,
            (running_mu, running_var, mu, var, momentum),
            _each_close_to(names, expected, mistakes=mistakes(momentum)),
            hint,
        )

    cases = [
        case("momentum 0.9 (3 units)", 0.9, blend(0.9), _KEEP_SHARE),
        case("momentum 0.99, Keras's default", 0.99, blend(0.99), _KEEP_SHARE),
        case(
            "momentum 0: only the last batch counts",
            0.0,
            (mu, var),
            "with a momentum of 0 the running values become the batch's own mean and variance",
        ),
        case(
            "momentum 1: the estimates never move",
            1.0,
            (running_mu, running_var),
            "with a momentum of 1 the running values stay as they were",
        ),
        Case(
            "momentum 1.5 is not an average",
            (running_mu, running_var, mu, var, 1.5),
            None,
            _MOMENTUM_RANGE,
            expect_error=ValueError,
        ),
    ]
    return CaseTable(
        "update_running_averages",
        tuple(cases),
        _RUNNING,
        ref_batchnorm.update_running_averages,
        ladder=RUNNING_LADDER,
    )


_KEEP_SHARE = (
    "each new running value keeps the share momentum of the old one and takes the rest from this "
    "batch's statistic"
)
_MOMENTUM_FOR_BATCH = (
    "you gave the share momentum to the batch: here (and in Keras) momentum is the share the "
    "running value keeps; PyTorch's momentum means the opposite"
)
_SWAPPED_STATISTICS = (
    "your results are swapped: return the new running mean first, then the new running variance"
)
_VARIANCE_FROM_MEAN = (
    "your new running variance blends in the batch's mean: average each statistic with its own "
    "batch value"
)
_MOMENTUM_RANGE = "a momentum outside [0, 1] is not an average: raise ValueError for it"

RUNNING_LADDER = (
    Rung(
        "the idea",
        "An exponentially weighted average, as in week 2: the new estimate keeps the share "
        "momentum of the old one and takes the rest from this batch, for the mean and the "
        "variance alike. Check that momentum lies in [0, 1] first.",
    ),
    Rung(
        "the tools",
        "momentum * running + (1 - momentum) * batch, once for mu and once for var; "
        "raise ValueError(...) when momentum is outside [0, 1]; return new arrays, leave the "
        "arguments unchanged.",
    ),
    Rung(
        "the code shape",
        "if not 0 <= momentum <= 1: raise ValueError(...)\n"
        "new_running_mu = momentum * ... + (1 - momentum) * ...\n"
        "new_running_var = ...\n"
        "return new_running_mu, new_running_var",
    ),
)


def update_running_averages_hidden_cases(rng) -> list:
    """Statistics and a momentum drawn from ``rng``, and a momentum that is not an average."""
    n = int(rng.integers(1, 6))
    stats = (rng.normal(0, 2, (n, 1)), rng.uniform(0.1, 4, (n, 1)))
    batch = (rng.normal(0, 2, (n, 1)), rng.uniform(0.1, 4, (n, 1)))
    momentum = float(rng.uniform(0, 1))
    expected = ref_batchnorm.update_running_averages(*stats, *batch, momentum)
    names = ("new_running_mu", "new_running_var")
    return [
        Case(
            "random statistics and momentum",
            (*stats, *batch, momentum),
            _each_close_to(names, expected),
            _KEEP_SHARE + ", for any momentum in [0, 1]",
            hidden=True,
        ),
        Case(
            "a momentum outside [0, 1]",
            (*stats, *batch, float(rng.choice([-1, 1])) * rng.uniform(1.1, 2)),
            None,
            _MOMENTUM_RANGE,
            expect_error=ValueError,
            hidden=True,
        ),
    ]


def check_update_running_averages(update_running_averages) -> None:
    """Check ``update_running_averages(running_mu, running_var, mu, var, momentum)``."""
    run_cases(update_running_averages_cases(), update_running_averages)


_INFERENCE = ("Z", "gamma", "beta", "running_mu", "running_var", "eps")


def batchnorm_inference_cases() -> CaseTable:
    """The public cases of ``batchnorm_inference(Z, gamma, beta, running_mu, running_var, eps)
    -> Z_tilde``."""
    rng = np.random.default_rng(6)
    Z = rng.normal(3, 2, (3, 5))
    gamma, beta = rng.uniform(0.5, 2, (3, 1)), rng.normal(0, 1, (3, 1))
    run_mu, run_var = np.array([[1.0], [-1.0], [4.0]]), np.array([[4.0], [0.25], [2.0]])

    def by_hand(Z_, eps):
        return _normalized_by_hand(Z_, gamma, beta, eps, mu=run_mu, var=run_var)

    def mistakes(Z_, eps):
        with np.errstate(all="ignore"):
            centred = Z_ - run_mu
            return (
                (ref_batchnorm.batchnorm_forward(Z_, gamma, beta, eps)[0], _BATCH_STATISTICS),
                (gamma * centred / (run_var + eps) + beta, _VARIANCE_NOT_STD),
                (gamma * centred / (np.sqrt(run_var) + eps) + beta, _EPS_OUTSIDE),
                (gamma * centred / np.sqrt(run_var + 1e-8) + beta, _FIXED_EPS),
                (gamma * (centred / np.sqrt(run_var + eps) + beta), _SHIFT_BEFORE_SCALE),
            )

    def case(name, Z_, eps, hint):
        return Case(
            name,
            (Z_, gamma, beta, run_mu, run_var, eps),
            close_to(by_hand(Z_, eps), what="Z_tilde", mistakes=mistakes(Z_, eps)),
            hint,
        )

    cases = [
        case("5 examples normalized with the running averages", Z, 1e-8, _RUNNING_NOT_BATCH),
        case(
            "a batch of one example",
            Z[:, :1],
            1e-8,
            "a single example has no spread of its own: at test time its statistics are not used",
        ),
        case(
            "eps = 1 goes inside the square root",
            Z,
            1.0,
            "use the eps you are given, inside the square root with the running variance",
        ),
        Case(
            "a running variance of 0",
            (Z[:1], gamma[:1], beta[:1], run_mu[:1], np.zeros((1, 1)), 1e-8),
            close_to(_normalized_by_hand(Z[:1], gamma[:1], beta[:1], 1e-8, run_mu[:1], [[0.0]])),
            "ε keeps the division finite when the running variance is 0",
        ),
    ]
    return CaseTable(
        "batchnorm_inference",
        tuple(cases),
        _INFERENCE,
        ref_batchnorm.batchnorm_inference,
        ladder=INFERENCE_LADDER,
    )


_RUNNING_NOT_BATCH = (
    "at test time each unit is normalized with the running averages gathered in training, then "
    "scaled and shifted as in training"
)
_BATCH_STATISTICS = (
    "you normalized with the batch's own mean and variance: at test time use the running "
    "averages you are given"
)
_VARIANCE_NOT_STD = (
    "you divided by the variance: divide by the standard deviation, the square root of the "
    "running variance plus ε"
)

INFERENCE_LADDER = (
    Rung(
        "the idea",
        "At test time there may be one example, and its prediction must not depend on the "
        "others: normalize each unit with the running mean and variance from training, then "
        "scale by γ and shift by β as in training.",
    ),
    Rung(
        "the tools",
        "(Z - running_mu) / np.sqrt(running_var + eps), then gamma * ... + beta; the "
        "(n_units, 1) columns broadcast over the m examples.",
    ),
    Rung(
        "the code shape",
        "Z_norm = (Z - ...) / np.sqrt(...)\nreturn gamma * ... + ...",
    ),
)


def batchnorm_inference_hidden_cases(rng) -> list:
    """A layer and running averages drawn from ``rng``; expected from the reference."""
    Z, gamma, beta, eps = _random_layer(rng)
    n = Z.shape[0]
    args = (Z, gamma, beta, rng.normal(0, 3, (n, 1)), rng.uniform(0.1, 9, (n, 1)), eps)
    return [
        Case(
            "a random layer",
            args,
            close_to(ref_batchnorm.batchnorm_inference(*args), what="Z_tilde"),
            _RUNNING_NOT_BATCH + ", for any shape and ε",
            hidden=True,
        )
    ]


def check_batchnorm_inference(batchnorm_inference) -> None:
    """Check ``batchnorm_inference(Z, gamma, beta, running_mu, running_var, eps) -> Z_tilde``."""
    run_cases(batchnorm_inference_cases(), batchnorm_inference)
