"""Checks for notebooks 03 and 04: batch norm's forward and backward pass, and at test time."""

import math

import numpy as np

from helpers import batchnorm as ref_batchnorm
from helpers.checks.cases import Case, CaseTable, Mismatch, short
from helpers.checks.driver import run_cases
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


def _each_close_to(names, expected, *, rtol=1e-6, atol=1e-9):
    """Verifier: a tuple whose items are close to ``expected`` (``None`` = not checked)."""

    def verify(result):
        for name, got, want in zip(names, unpack(result, names), expected, strict=True):
            if want is None:
                continue
            try:
                close_to(want, rtol=rtol, atol=atol, what=name)(got)
            except Mismatch as mismatch:
                raise Mismatch(
                    f"{name} = {mismatch.expected}", f"{name} = {mismatch.got}"
                ) from None

    return verify


_FORWARD = ("Z_tilde", "cache")
_CACHE = ("Z", "Z_norm", "mu", "var", "gamma", "eps")


def _forward_gives(Z, gamma, beta, eps):
    return _each_close_to(_FORWARD, (_normalized_by_hand(Z, gamma, beta, eps), None))


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
    cases = [
        Case(
            "a worked example: 2 units, 4 examples",
            (Z_worked, g_worked, b_worked, 1e-8),
            _forward_gives(Z_worked, g_worked, b_worked, 1e-8),
            "per unit (row, axis=1): mu = mean, var = mean of (Z - mu)**2 (divide by m), "
            "Z_norm = (Z - mu) / sqrt(var + eps), "
            "Z_tilde = gamma * Z_norm + beta",
        ),
        Case(
            "units on very different scales: statistics per unit (row)",
            (Z_scales, g3, b3, 1e-8),
            _forward_gives(Z_scales, g3, b3, 1e-8),
            "average over the examples, axis=1 with keepdims=True: mu has shape (n_units, 1)",
        ),
        Case(
            "two examples 0 and 2: the variance divides by m",
            (pair, one, zero, 1e-8),
            _forward_gives(pair, one, zero, 1e-8),
            "use the population variance Z.var(axis=1) (divide by m, not m - 1)",
        ),
        Case(
            "eps = 1 goes inside the square root",
            (pair, one, zero, 1.0),
            _forward_gives(pair, one, zero, 1.0),
            "divide by np.sqrt(var + eps), not np.sqrt(var) + eps; use the eps argument",
        ),
        Case(
            "a unit that is constant over the batch",
            (np.full((1, 3), 3.0), 2 * one, 0.5 * one, 1e-8),
            _forward_gives(np.full((1, 3), 3.0), 2 * one, 0.5 * one, 1e-8),
            "var = 0 here: eps keeps the division finite, and Z_tilde is beta",
        ),
        Case(
            "gamma = sqrt(var + eps), beta = mu undo the normalization",
            (Z_scales, np.sqrt(identity_var + 1e-8), identity_mu, 1e-8),
            _each_close_to(_FORWARD, (Z_scales, None), rtol=1e-9, atol=1e-9),
            "scale by gamma after normalizing, then add beta",
        ),
        Case(
            "the cache",
            (Z_worked, g_worked, b_worked, 1e-8),
            _cache_holds(Z_worked, g_worked, b_worked, 1e-8),
            "return cache = (Z, Z_norm, mu, var, gamma, eps), in that order",
        ),
    ]
    return CaseTable(
        "batchnorm_forward",
        tuple(cases),
        ("Z", "gamma", "beta", "eps"),
        ref_batchnorm.batchnorm_forward,
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
    hint = "per unit (row) statistics over the examples (axis=1), for any shape and eps"
    return [
        Case(
            "Z_tilde of a random layer",
            args,
            _each_close_to(_FORWARD, (Z_tilde, None)),
            hint,
            hidden=True,
        ),
        Case(
            "the cache of a random layer",
            args,
            lambda result: _each_close_to(_CACHE, cache)(
                tuple(np.asarray(c, dtype=float) for c in _cache_of(result))
            ),
            "return cache = (Z, Z_norm, mu, var, gamma, eps), in that order",
            hidden=True,
        ),
    ]


def _cache_of(result):
    cache = unpack(result, _FORWARD)[1]
    if not isinstance(cache, tuple) or len(cache) != len(_CACHE):
        raise Mismatch(f"cache = the tuple ({', '.join(_CACHE)})", f"cache = {short(cache)}")
    return cache


def check_batchnorm_forward(batchnorm_forward) -> None:
    """Check ``batchnorm_forward(Z, gamma, beta, eps) -> (Z_tilde, cache)`` on ``(n_units, m)``."""
    run_cases(batchnorm_forward_cases(), batchnorm_forward)


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
    mistakes = (
        (no_gamma, _FORGOT_GAMMA),
        (upstream * gamma / scale, _DROPPED_BATCH_TERMS),
        (upstream / scale, _BOTH_MISTAKES),
    )
    return (upstream, cache), expected, mistakes


_FORGOT_GAMMA = (
    "your dZ is the one for γ = 1: the gradient reaches Z_norm through γ, so dZ_norm = "
    "dZ_tilde * gamma before anything else"
)
_BOTH_MISTAKES = (
    "two things are missing: γ (dZ_norm = dZ_tilde * gamma), and the paths through mu and var, "
    "which depend on every example of the batch and add two terms"
)
_DROPPED_BATCH_TERMS = (
    "your dZ treats mu and var as constants (dZ_tilde * gamma / sqrt(var + eps)); but each "
    "depends on every example of the batch, and the paths through mu and var add two terms"
)


def _backward_gives(names, expected, mistakes):
    """Verifier: ``(dZ, dgamma, dbeta)`` close to ``expected`` (``None`` = not checked); a dZ
    that matches one of ``mistakes`` gets that mistake's hint."""
    compare = _each_close_to(names, expected, rtol=1e-5, atol=1e-7)

    def verify(result):
        try:
            compare(result)
        except Mismatch as mismatch:
            dZ = result[0] if isinstance(result, tuple | list) and result else None
            if mismatch.expected.startswith("dZ ") and isinstance(dZ, np.ndarray):
                for wrong, hint in mistakes:
                    same_shape = dZ.shape == wrong.shape and dZ.dtype.kind in "iuf"
                    if same_shape and np.allclose(dZ, wrong, rtol=1e-5, atol=1e-7):
                        raise Mismatch(mismatch.expected, mismatch.got, hint) from None
            raise

    return verify


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
            "dbeta = dZ_tilde summed over the examples (axis=1, keepdims=True); "
            "dgamma = (dZ_tilde * Z_norm) summed the same way",
            parts=("dgamma", "dbeta"),
        ),
        case(
            "dZ (3 units, 6 examples), compared with a numerical gradient",
            general,
            "dZ_norm = dZ_tilde * gamma; dZ = (m * dZ_norm - dZ_norm.sum(axis=1, keepdims=True) "
            "- Z_norm * (dZ_norm * Z_norm).sum(axis=1, keepdims=True)) / (m * sqrt(var + eps))",
        ),
        case(
            "gradient arriving at one example only",
            single,
            "mu and var depend on every example, so every column of dZ gets a share: "
            "dividing dZ_tilde * gamma by sqrt(var + eps) alone misses two terms",
        ),
        case(
            "the same gradient for every example",
            ones,
            "shifting every example of a unit by the same amount does not change Z_norm: dZ is 0",
        ),
        case(
            "eps = 0.5",
            big_eps,
            "use sqrt(var + eps) from the cache, exactly as in the forward pass",
        ),
        case(
            "a batch of one example",
            lone,
            "with m = 1 every Z_norm is 0 whatever Z is, so dZ is 0 (and nothing is nan)",
        ),
    ]
    return CaseTable(
        "batchnorm_backward", tuple(cases), ("dZ_tilde", "cache"), ref_batchnorm.batchnorm_backward
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
            "the three gradients must hold for any shape and eps: each depends on the batch",
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

    cases = [
        Case(
            "momentum 0.9 (3 units)",
            (running_mu, running_var, mu, var, 0.9),
            _each_close_to(names, blend(0.9)),
            "new = momentum * running + (1 - momentum) * batch: the running value keeps 90 %",
        ),
        Case(
            "momentum 0.99, Keras's default",
            (running_mu, running_var, mu, var, 0.99),
            _each_close_to(names, blend(0.99)),
            "momentum weighs the old running value; PyTorch's momentum=0.1 means the opposite",
        ),
        Case(
            "momentum 0: only the last batch counts",
            (running_mu, running_var, mu, var, 0.0),
            _each_close_to(names, (mu, var)),
            "with momentum 0 the result is the batch's own mu and var",
        ),
        Case(
            "momentum 1: the estimates never move",
            (running_mu, running_var, mu, var, 1.0),
            _each_close_to(names, (running_mu, running_var)),
            "with momentum 1 the result is the running values unchanged",
        ),
        Case(
            "momentum 1.5 is not an average",
            (running_mu, running_var, mu, var, 1.5),
            None,
            "raise ValueError when momentum is outside [0, 1]",
            expect_error=ValueError,
        ),
    ]
    return CaseTable(
        "update_running_averages", tuple(cases), _RUNNING, ref_batchnorm.update_running_averages
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
            "new = momentum * running + (1 - momentum) * batch, for any momentum in [0, 1]",
            hidden=True,
        ),
        Case(
            "a momentum outside [0, 1]",
            (*stats, *batch, float(rng.choice([-1, 1])) * rng.uniform(1.1, 2)),
            None,
            "raise ValueError when momentum is outside [0, 1]",
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

    cases = [
        Case(
            "5 examples normalized with the running averages",
            (Z, gamma, beta, run_mu, run_var, 1e-8),
            close_to(by_hand(Z, 1e-8), what="Z_tilde"),
            "Z_tilde = gamma * (Z - running_mu) / np.sqrt(running_var + eps) + beta: the "
            "running averages, not the batch's own mean and variance",
        ),
        Case(
            "a batch of one example",
            (Z[:, :1], gamma, beta, run_mu, run_var, 1e-8),
            close_to(by_hand(Z[:, :1], 1e-8), what="Z_tilde"),
            "a single example has variance 0: at test time its statistics must not be used",
        ),
        Case(
            "eps = 1 goes inside the square root",
            (Z, gamma, beta, run_mu, run_var, 1.0),
            close_to(by_hand(Z, 1.0), what="Z_tilde"),
            "divide by np.sqrt(running_var + eps); use the eps argument",
        ),
        Case(
            "a running variance of 0",
            (Z[:1], gamma[:1], beta[:1], run_mu[:1], np.zeros((1, 1)), 1e-8),
            close_to(_normalized_by_hand(Z[:1], gamma[:1], beta[:1], 1e-8, run_mu[:1], [[0.0]])),
            "eps keeps the division finite when running_var is 0",
        ),
    ]
    return CaseTable(
        "batchnorm_inference", tuple(cases), _INFERENCE, ref_batchnorm.batchnorm_inference
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
            "normalize with the running averages and the eps given, for any shape",
            hidden=True,
        )
    ]


def check_batchnorm_inference(batchnorm_inference) -> None:
    """Check ``batchnorm_inference(Z, gamma, beta, running_mu, running_var, eps) -> Z_tilde``."""
    run_cases(batchnorm_inference_cases(), batchnorm_inference)
