"""helpers.sampling: the references behind notebook 02's exercises, and their input errors."""

import numpy as np
import pytest

from helpers.sampling import sample_beta, sample_log_uniform


def test_log_uniform_puts_the_same_share_in_every_decade():
    samples = sample_log_uniform(1e-4, 1.0, 40_000, np.random.default_rng(0))
    assert samples.shape == (40_000,)
    assert samples.min() >= 1e-4 and samples.max() <= 1.0
    shares = np.histogram(np.log10(samples), bins=[-4, -3, -2, -1, 0])[0] / samples.size
    np.testing.assert_allclose(shares, 0.25, atol=0.01)


def test_beta_samples_one_minus_beta_on_a_log_scale():
    betas = sample_beta(0.9, 0.999, 40_000, np.random.default_rng(1))
    assert betas.min() >= 0.9 and betas.max() <= 0.999
    assert np.mean(betas > 0.99) == pytest.approx(0.5, abs=0.01)


def test_samples_come_only_from_the_generator():
    a = sample_log_uniform(0.1, 10.0, 5, np.random.default_rng(3))
    b = sample_log_uniform(0.1, 10.0, 5, np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    ("call", "error", "says"),
    [
        (lambda r: sample_log_uniform(0.0, 1.0, 3, r), ValueError, "low must be > 0"),
        (lambda r: sample_log_uniform(-1.0, 1.0, 3, r), ValueError, "low must be > 0"),
        (lambda r: sample_log_uniform(1.0, 1.0, 3, r), ValueError, "high must be"),
        (lambda r: sample_log_uniform(1e-3, "1", 3, r), TypeError, "must be numbers"),
        (lambda r: sample_log_uniform(1e-3, 1.0, -1, r), TypeError, "size must be"),
        (lambda r: sample_log_uniform(1e-3, 1.0, 3, 42), TypeError, "rng must be"),
        (lambda r: sample_beta(0.9, 1.0, 3, r), ValueError, "0 < low < high < 1"),
        (lambda r: sample_beta(0.0, 0.9, 3, r), ValueError, "0 < low < high < 1"),
        (lambda r: sample_beta(0.99, 0.9, 3, r), ValueError, "0 < low < high < 1"),
    ],
)
def test_bad_input_is_named(call, error, says):
    with pytest.raises(error) as raised:
        call(np.random.default_rng(0))
    assert says in str(raised.value)
