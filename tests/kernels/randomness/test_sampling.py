"""Distribution, determinism and accounting tests for the keyed samplers.

Every test draws from fixed substream keys, so results are reproducible;
tolerances are several standard errors wide (means within 6 SE, goodness
of fit at p > 1e-4), so a correct sampler passes while a biased one fails.
"""

import itertools
import math

import numba
import numpy as np
import pytest
from scipy import stats

from engine_kernels.randomness import sampling
from engine_kernels.randomness import streams as rng

PARAMETER_HASH = "fedcba9876543210" * 4


def unit_keys(label: str, n: int) -> np.ndarray:
    return rng.unit_keys(rng.label_key(2024, PARAMETER_HASH, label), np.arange(n)[:, None])


def assert_moments(x, mean, var, z=6.0):
    """Sample mean and variance within z standard errors of the theory."""
    x = np.asarray(x, dtype=np.float64)
    n = x.size
    assert abs(x.mean() - mean) < z * math.sqrt(var / n), (x.mean(), mean)
    centred = x - x.mean()
    m4 = np.mean(centred**4)
    s2 = np.mean(centred**2)
    assert abs(x.var(ddof=1) - var) < z * math.sqrt((m4 - s2**2) / n), (x.var(ddof=1), var)


def chisquare_pvalue(samples, pmf, lowest=0):
    """Chi-square goodness of fit of integer samples to pmf(k) on k >= lowest.

    Cells with expected count >= 5 are kept; the tails beyond them are merged
    into the outermost kept cells.
    """
    n = samples.size
    assert samples.min() >= lowest
    ks = np.arange(lowest, max(samples.max(), lowest) + 1 + 200)
    expected = n * pmf(ks)
    keep = np.flatnonzero(expected >= 5)
    lo, hi = ks[keep[0]], ks[keep[-1]]
    observed = np.bincount(np.clip(samples, lo, hi) - lo, minlength=hi - lo + 1).astype(np.float64)
    exp_cells = expected[keep[0] : keep[-1] + 1].copy()
    exp_cells[0] += expected[: keep[0]].sum()
    exp_cells[-1] += n - exp_cells.sum()
    return stats.chisquare(observed, exp_cells).pvalue


@pytest.fixture
def thread_counts():
    before = numba.get_num_threads()
    yield [c for c in (1, 2) if c <= numba.config.NUMBA_NUM_THREADS]
    numba.set_num_threads(before)


# --------------------------------------------------------------------------
# Continuous laws
# --------------------------------------------------------------------------


def test_normal():
    words = np.empty(1_000_000, np.int64)
    x = sampling.sample_normal(unit_keys("normal", 1_000_000), words_out=words)
    assert (words == sampling.NORMAL_WORDS).all()
    assert_moments(x, 0.0, 1.0)
    assert stats.kstest(x, "norm").pvalue > 1e-4


@pytest.mark.parametrize("shape", [0.3, 1.0, 2.5, 40.0])
def test_gamma(shape):
    x = sampling.sample_gamma(unit_keys(f"gamma-{shape}", 400_000), shape)
    assert (x >= 0).all()
    assert_moments(x, shape, shape)
    assert stats.kstest(x, "gamma", args=(shape,)).pvalue > 1e-4


def test_log_gamma_consumes_the_same_words_as_gamma():
    for key in unit_keys("log-gamma", 50):
        for shape in (0.01, 0.7, 3.0):
            a, b = rng.new_state(key), rng.new_state(key)
            g = sampling.gamma(a, shape)
            log_g = sampling.log_gamma(b, shape)
            assert rng.words_used(a) == rng.words_used(b)
            assert math.isclose(math.exp(log_g), g, rel_tol=1e-12, abs_tol=1e-300)


def test_log_gamma_finite_where_gamma_underflows():
    keys = unit_keys("tiny-shape", 2000)
    logs = [sampling.log_gamma(rng.new_state(k), 1e-4) for k in keys]
    gammas = sampling.sample_gamma(keys, 1e-4)
    assert np.isfinite(logs).all()
    assert (gammas == 0.0).mean() > 0.5


# --------------------------------------------------------------------------
# Discrete laws
# --------------------------------------------------------------------------


@pytest.mark.parametrize("lam", [0.5, 5.0, 9.9, 10.0, 30.0, 1000.0])
def test_poisson(lam):
    x = sampling.sample_poisson(unit_keys(f"poisson-{lam}", 1_000_000), lam)
    assert x.dtype == np.int64 and x.min() >= 0
    assert_moments(x, lam, lam)
    assert chisquare_pvalue(x, lambda k: stats.poisson.pmf(k, lam)) > 1e-4


def test_poisson_never_absurd():
    x = sampling.sample_poisson(unit_keys("poisson-bound", 1_000_000), 5.0)
    # P(X >= 30) for lam = 5 is about 1e-12.
    assert x.max() < 30
    for lam in (10.0, 12.5, 100.0):
        y = sampling.sample_poisson(unit_keys(f"ptrs-bound-{lam}", 200_000), lam)
        assert y.max() < lam + 10 * math.sqrt(lam)


def test_poisson_zero_mean():
    assert (sampling.sample_poisson(unit_keys("zero", 100), 0.0) == 0).all()


@pytest.mark.parametrize("phi", [0.8, 5.0])
def test_negative_binomial(phi):
    mean = 12.0
    x = sampling.sample_negative_binomial(unit_keys(f"nb-{phi}", 500_000), mean, phi)
    assert_moments(x, mean, mean + mean**2 / phi)
    assert chisquare_pvalue(x, lambda k: stats.nbinom.pmf(k, phi, phi / (phi + mean))) > 1e-4


@numba.njit
def _nb_by_inversion(keys, mean, phi):
    out = np.empty(keys.size, np.int64)
    state = np.zeros(rng.STATE_SIZE, np.uint64)
    for i in range(keys.size):
        rng.seed_state(state, keys[i], np.uint64(0))
        out[i] = sampling.negative_binomial_by_inversion(state, mean, phi)
    return out


@pytest.mark.parametrize(("mean", "phi"), [(0.05, 30.0), (0.7, 0.8), (4.0, 12.0), (9.9, 2.0), (12.0, 5.0)])
def test_negative_binomial_by_inversion(mean, phi):
    x = _nb_by_inversion(unit_keys(f"nbi-{mean}-{phi}", 400_000), mean, phi)
    assert_moments(x, mean, mean + mean**2 / phi)
    assert chisquare_pvalue(x, lambda k: stats.nbinom.pmf(k, phi, phi / (phi + mean))) > 1e-4


@pytest.mark.parametrize("lam", [0.2, 3.0, 25.0])
def test_zero_truncated_poisson(lam):
    x = sampling.sample_zero_truncated_poisson(unit_keys(f"ztp-{lam}", 500_000), lam)
    assert x.min() >= 1
    p_pos = -math.expm1(-lam)
    mean = lam / p_pos
    var = lam * (1 + lam) / p_pos - mean**2
    assert_moments(x, mean, var)
    assert chisquare_pvalue(x, lambda k: stats.poisson.pmf(k, lam) / p_pos, lowest=1) > 1e-4


# --------------------------------------------------------------------------
# Dirichlet
# --------------------------------------------------------------------------


def test_dirichlet_moments_and_marginals():
    alpha = np.array([0.5, 1.5, 3.0])
    n = 200_000
    a0 = alpha.sum()
    draws = sampling.sample_dirichlet(
        unit_keys("dirichlet", n), np.tile(alpha, n), np.arange(0, 3 * n + 1, 3)
    ).reshape(n, 3)
    np.testing.assert_allclose(draws.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    for i, a in enumerate(alpha):
        assert_moments(draws[:, i], a / a0, a * (a0 - a) / (a0**2 * (a0 + 1)))
        assert stats.kstest(draws[:, i], "beta", args=(a, a0 - a)).pvalue > 1e-4


def test_dirichlet_tiny_alphas():
    n = 100_000
    draws = sampling.sample_dirichlet(
        unit_keys("dirichlet-tiny", n), np.full(3 * n, 1e-3), np.arange(0, 3 * n + 1, 3)
    ).reshape(n, 3)
    assert not np.isnan(draws).any()
    assert (draws >= 0).all()
    np.testing.assert_allclose(draws.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    assert_moments(draws[:, 0], 1 / 3, (1 / 3) * (2 / 3) / 1.003)


def test_dirichlet_ragged_units_are_independent_of_layout():
    keys = unit_keys("ragged", 4)
    alpha = np.array([1.0, 2.0, 0.5, 0.5, 0.5, 0.5, 4.0, 1.0, 1.0, 1.0])
    offsets = np.array([0, 2, 3, 6, 10])
    draws = sampling.sample_dirichlet(keys, alpha, offsets)
    assert draws[2] == 1.0
    for i in range(4):
        lo, hi = offsets[i], offsets[i + 1]
        alone = sampling.sample_dirichlet(keys[i : i + 1], alpha[lo:hi], [0, hi - lo])
        assert alone.tobytes() == draws[lo:hi].tobytes()


# --------------------------------------------------------------------------
# Gumbel top-k
# --------------------------------------------------------------------------


def test_gumbel_top_1_frequencies():
    weights = np.array([1.0, 2.0, 0.0, 3.0, 4.0])
    n = 400_000
    idx, offsets = sampling.sample_gumbel_top_k(
        unit_keys("gumbel-1", n), np.tile(weights, n), np.arange(0, 5 * n + 1, 5), 1
    )
    assert (np.diff(offsets) == 1).all()
    counts = np.bincount(idx, minlength=5)
    assert counts[2] == 0
    positive = weights > 0
    assert stats.chisquare(counts[positive], n * weights[positive] / weights.sum()).pvalue > 1e-4


def test_gumbel_top_2_matches_successive_sampling():
    weights = np.array([1.0, 2.0, 3.0, 4.0])
    total = weights.sum()
    n = 400_000
    idx, offsets = sampling.sample_gumbel_top_k(
        unit_keys("gumbel-2", n), np.tile(weights, n), np.arange(0, 4 * n + 1, 4), 2
    )
    assert (np.diff(offsets) == 2).all()
    pairs = idx.reshape(n, 2)
    assert (pairs[:, 0] != pairs[:, 1]).all()
    ordered = list(itertools.permutations(range(4), 2))
    exact = np.array([weights[i] / total * weights[j] / (total - weights[i]) for i, j in ordered])
    observed = np.array([np.sum((pairs[:, 0] == i) & (pairs[:, 1] == j)) for i, j in ordered])
    assert stats.chisquare(observed, n * exact).pvalue > 1e-4
    for item in range(4):
        inclusion = sum(p for (i, j), p in zip(ordered, exact) if item in (i, j))
        freq = np.mean((pairs == item).any(axis=1))
        assert abs(freq - inclusion) < 6 * math.sqrt(inclusion * (1 - inclusion) / n)


def test_gumbel_zero_weights_never_selected():
    gen = np.random.default_rng(5)
    n = 2000
    sizes = gen.integers(0, 12, n)
    offsets = np.concatenate(([0], np.cumsum(sizes)))
    weights = gen.exponential(size=offsets[-1]) * (gen.random(offsets[-1]) < 0.5)
    k = gen.integers(0, 6, n)
    words = np.empty(n, np.int64)
    idx, out_offsets = sampling.sample_gumbel_top_k(unit_keys("gumbel-zero", n), weights, offsets, k, words_out=words)
    assert (words == 2 * sizes).all()
    for i in range(n):
        picks = idx[out_offsets[i] : out_offsets[i + 1]]
        group = weights[offsets[i] : offsets[i + 1]]
        assert len(picks) == min(k[i], np.count_nonzero(group))
        assert len(set(picks.tolist())) == len(picks)
        assert (group[picks] > 0).all()


# --------------------------------------------------------------------------
# Determinism, per-unit parameters and word accounting
# --------------------------------------------------------------------------


def _all_samplers(keys, words):
    n = keys.size
    lam = np.linspace(0.0, 40.0, n)
    alpha = np.full(4 * n, 0.3)
    offsets = np.arange(0, 4 * n + 1, 4)
    runs = {
        "normal": lambda w: sampling.sample_normal(keys, words_out=w),
        "gamma": lambda w: sampling.sample_gamma(keys, lam + 0.1, words_out=w),
        "poisson": lambda w: sampling.sample_poisson(keys, lam, words_out=w),
        "nb": lambda w: sampling.sample_negative_binomial(keys, lam, 2.0, words_out=w),
        "ztp": lambda w: sampling.sample_zero_truncated_poisson(keys, lam + 0.01, words_out=w),
        "dirichlet": lambda w: sampling.sample_dirichlet(keys, alpha, offsets, words_out=w),
        "gumbel": lambda w: sampling.sample_gumbel_top_k(keys, alpha, offsets, 2, words_out=w)[0],
    }
    out = {}
    for name, run in runs.items():
        values = run(words)
        out[name] = (values.tobytes(), words.tobytes())
    return out


def test_results_identical_across_runs_and_thread_counts(thread_counts):
    keys = unit_keys("determinism", 20_000)
    words = np.empty(keys.size, np.int64)
    reference = _all_samplers(keys, words)
    assert _all_samplers(keys, words) == reference
    for count in thread_counts:
        numba.set_num_threads(count)
        assert _all_samplers(keys, words) == reference


def test_vectorised_equals_scalar_path_and_counts_words():
    keys = unit_keys("scalar", 200)
    lam = np.linspace(0.0, 25.0, 200)
    words = np.empty(200, np.int64)
    for counter in (0, 7):
        drawn = sampling.sample_poisson(keys, lam, counter=counter, words_out=words)
        for i, key in enumerate(keys):
            state = rng.new_state(key, counter)
            assert sampling.poisson(state, lam[i]) == drawn[i]
            assert rng.words_used(state) == words[i]
        nb = sampling.sample_negative_binomial(keys, lam, 1.5, counter=counter, words_out=words)
        for i, key in enumerate(keys):
            state = rng.new_state(key, counter)
            assert sampling.negative_binomial(state, lam[i], 1.5) == nb[i]
            assert rng.words_used(state) == words[i]
    assert (sampling.sample_normal(keys, counter=1) != sampling.sample_normal(keys)).all()


@pytest.mark.parametrize(
    ("call", "pattern"),
    [
        (lambda k: sampling.sample_poisson(k, np.array([1.0, -1.0, np.nan, 2.0, 3.0])), r"lam.*2 of 5.*-1\.0"),
        (lambda k: sampling.sample_poisson(k, 2e15), r"lam.*5 of 5"),
        (lambda k: sampling.sample_gamma(k, 0.0), r"shape.*5 of 5"),
        (lambda k: sampling.sample_negative_binomial(k, 3.0, np.array([1, 1, 0, 1, 1.0])), r"phi.*1 of 5"),
        (lambda k: sampling.sample_negative_binomial(k, -3.0, 1.0), r"mean"),
        (lambda k: sampling.sample_zero_truncated_poisson(k, 0.0), r"lam.*5 of 5"),
        (lambda k: sampling.sample_dirichlet(k, np.r_[np.ones(9), 0.0], np.arange(0, 11, 2)), r"alpha_flat.*1 of 10"),
        (lambda k: sampling.sample_dirichlet(k, np.ones(10), np.array([0, 2, 2, 6, 8, 10])), r"offsets.*unit 1"),
        (lambda k: sampling.sample_dirichlet(k, np.ones(10), np.array([0, 2, 4, 10])), r"offsets.*6 entries"),
        (lambda k: sampling.sample_gumbel_top_k(k, -np.ones(10), np.arange(0, 11, 2), 1), r"weights_flat.*10 of 10"),
        (lambda k: sampling.sample_gumbel_top_k(k, np.ones(10), np.arange(0, 11, 2), -1), r"k.*5 of 5"),
        (lambda k: sampling.sample_normal(k, words_out=np.empty(5, np.int32)), r"words_out"),
        (lambda k: sampling.sample_normal(k.astype(np.int64)), r"keys"),
        (lambda k: sampling.sample_normal(k, counter=-1), r"counter"),
    ],
)
def test_parameter_validation(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call(unit_keys("validation", 5))
