"""Symmetry statistics against laws whose symmetry, skewness and correlations are known."""

import numpy as np
import pytest
import scipy.stats
import torch

from adaptsym.symmetry import (
    gate_correlations,
    reflection_ks,
    sign_change_fraction,
    smoothed_density,
    symmetry_stats,
)


def test_reflection_ks_by_hand():
    # x = (1, 2, -3, 2), -x = (-1, -2, 3, -2): at t = -1 the CDFs are 1/4 (x: -3) and 3/4 (-x: -1, -2, -2)
    assert reflection_ks(np.array([1.0, 2.0, -3.0, 2.0])) == pytest.approx(0.5, abs=1e-15)
    # x = (0, 0, 1): at t = 0 the CDFs are 2/3 and 3/3
    assert reflection_ks([0.0, 0.0, 1.0]) == pytest.approx(1 / 3, abs=1e-15)
    assert reflection_ks(torch.tensor([[-1.0, 1.0], [-2.0, 2.0]])) == 0.0
    assert reflection_ks([2.0]) == 1.0
    with pytest.raises(ValueError, match="NaN"):
        reflection_ks(np.array([1.0, np.nan]))


@pytest.mark.parametrize("n", [2, 7, 300])
def test_reflection_ks_equals_the_two_sample_ks_of_x_and_minus_x(n):
    rng = np.random.default_rng(n)
    for x in (rng.integers(-3, 4, n).astype(float), rng.standard_normal(n) + 0.2):  # with and without ties
        exact = scipy.stats.ks_2samp(x, -x, method="asymp").statistic  # the method only changes the p-value
        assert reflection_ks(x) == pytest.approx(exact, abs=1e-15)


def test_point_statistics_are_the_sample_moments():
    x = np.random.default_rng(0).gamma(2.0, size=(30, 40))
    stats = symmetry_stats(torch.from_numpy(x), n_boot=10)
    assert (stats["n"], stats["n_total"]) == (1200, 1200)
    assert stats["mean"] == pytest.approx(x.mean(), rel=1e-13)
    assert stats["std"] == pytest.approx(x.std(), rel=1e-13)
    assert stats["mean_over_std"] == pytest.approx(x.mean() / x.std(), rel=1e-13)
    assert stats["skewness"] == pytest.approx(scipy.stats.skew(x.ravel()), rel=1e-12)
    assert stats["reflection_ks"] == reflection_ks(x)


def test_bootstrap_error_of_the_mean_is_std_over_sqrt_n():
    x = np.random.default_rng(1).laplace(size=2000)
    stats = symmetry_stats(x, n_boot=400, seed=1)
    assert stats["mean_se"] == pytest.approx(x.std() / np.sqrt(x.size), rel=0.12)


@pytest.mark.parametrize("draw", [
    lambda rng, n: rng.standard_normal(n),
    lambda rng, n: rng.laplace(size=n),
    lambda rng, n: rng.choice((-1.0, 1.0), n) * (2 + rng.standard_normal(n) * 0.1),
], ids=["normal", "laplace", "two-point mixture"])
def test_a_symmetric_law_is_not_rejected(draw):
    stats = symmetry_stats(draw(np.random.default_rng(1), 5000), n_boot=100, seed=1)
    assert abs(stats["skewness"]) < 3 * stats["skewness_se"]
    assert abs(stats["mean_over_std"]) < 3 * stats["mean_over_std_se"]
    assert stats["reflection_p"] > 0.01
    assert stats["reflection_ks"] < stats["reflection_ks_null"] + 3 * stats["reflection_ks_se"]


@pytest.mark.parametrize("draw", [
    lambda rng, n: rng.standard_normal(n) + 0.3,
    lambda rng, n: rng.exponential(size=n) - np.log(2),  # median 0, skewness 2
], ids=["shifted normal", "centred exponential"])
def test_a_shifted_or_skewed_law_is_rejected(draw):
    stats = symmetry_stats(draw(np.random.default_rng(2), 5000), n_boot=100, seed=2)
    assert stats["reflection_ks"] > stats["reflection_ks_null"] + 5 * stats["reflection_ks_se"]
    assert stats["reflection_p"] < 0.01


def test_the_sign_flip_test_rejects_a_symmetric_law_at_its_level():
    # a sign-flip (randomisation) test is exact: P(p <= 0.05) = 0.05 under symmetry
    repetitions = 200
    rejected = sum(symmetry_stats(np.random.default_rng(500 + s).standard_normal(500), n_boot=99, seed=s)
                   ["reflection_p"] <= 0.05 for s in range(repetitions))
    assert 0.01 <= rejected / repetitions <= 0.10, rejected


def test_bootstrap_intervals_cover_the_true_skewness_and_mean_over_std():
    shape = 4.0  # Gamma(k): skewness 2/sqrt(k), mean/std sqrt(k)
    truth = {"skewness": 2 / np.sqrt(shape), "mean_over_std": np.sqrt(shape)}
    covered = {key: 0 for key in truth}
    repetitions = 200  # n = 4000: below ~2000 the sample skewness is biased low and its interval covers < 90%
    for seed in range(repetitions):
        stats = symmetry_stats(np.random.default_rng(100 + seed).gamma(shape, size=4000), n_boot=50, seed=seed)
        for key, value in truth.items():
            covered[key] += abs(stats[key] - value) <= 1.96 * stats[f"{key}_se"]
    for key in truth:
        assert 0.88 <= covered[key] / repetitions <= 0.99, (key, covered[key])


def test_subsampling_is_seeded_and_reported():
    x = np.random.default_rng(3).standard_normal(1000)
    stats = symmetry_stats(x, n_boot=10, max_samples=100)
    assert (stats["n"], stats["n_total"]) == (100, 1000)
    assert stats["mean"] != pytest.approx(x.mean(), abs=1e-12)
    assert symmetry_stats(x, n_boot=10, seed=4) == symmetry_stats(x, n_boot=10, seed=4)
    assert symmetry_stats(x, n_boot=10, seed=4) != symmetry_stats(x, n_boot=10, seed=5)
    with pytest.raises(ValueError, match="n_boot"):
        symmetry_stats(x, n_boot=1)


def test_sign_change_fraction():
    assert sign_change_fraction([1.0, -2.0, 3.0, -4.0], [1.0, 2.0, -3.0, -4.0]) == 0.5
    assert sign_change_fraction(torch.ones(2, 3), -np.ones((2, 3))) == 1.0
    with pytest.raises(ValueError, match="shapes"):
        sign_change_fraction(np.ones((2, 3)), np.ones((3, 2)))


def test_gate_correlations_are_the_pairwise_pearson_correlations():
    gates = np.random.default_rng(4).random((50, 6)) < 0.4
    result = gate_correlations(torch.from_numpy(gates))
    pairs = [(i, j) for i in range(6) for j in range(i + 1, 6)]
    exact = [scipy.stats.pearsonr(gates[:, i].astype(float), gates[:, j].astype(float))[0] for i, j in pairs]
    np.testing.assert_allclose(result["r"], exact, atol=1e-12)
    assert result["firing_rate_mean"] == pytest.approx(gates.mean(), abs=1e-15)
    with pytest.raises(ValueError, match="0"):
        gate_correlations(np.full((5, 3), 0.5))


def test_independent_gates_look_like_their_shuffled_baseline():
    gates = np.random.default_rng(5).random((2000, 40)) < 0.5
    result = gate_correlations(gates, seed=5)
    assert result["r"].shape == result["r_shuffled"].shape == (40 * 39 // 2,)
    assert result["mean_abs"] == pytest.approx(result["mean_abs_shuffled"], rel=0.15)
    assert result["mean_abs"] == pytest.approx(np.sqrt(2 / np.pi / 2000), rel=0.15)  # |N(0, 1/m)|


def test_planted_correlated_gates_and_constant_units():
    rng = np.random.default_rng(6)
    m, p = 5000, 0.6
    latent = rng.random(m) < 0.5
    copies = np.where(rng.random((m, 10)) < p, latent[:, None], rng.random((m, 10)) < 0.5)
    gates = np.column_stack([copies, np.ones(m), np.zeros(m)])
    result = gate_correlations(gates)
    # each unit copies the fair latent with probability p, else is an independent fair coin:
    # cov = P(both copy) var(latent) = p^2 / 4 and var = 1/4, so corr = p^2 (sampling sd ~ (1 - p^4)/sqrt(m) = 0.012)
    assert result["n_constant"] == 2 and result["n_units"] == 12 and result["r"].shape == (45,)
    np.testing.assert_allclose(result["r"], p ** 2, atol=0.05)
    assert np.mean(result["r"]) == pytest.approx(p ** 2, abs=0.015)
    assert result["mean_abs_shuffled"] < 0.05 and result["mean_abs"] > 6 * result["mean_abs_shuffled"]


def test_smoothed_density_integrates_to_one_and_keeps_the_mean():
    x = np.random.default_rng(7).normal(0.5, 1.0, 20000)
    grid = np.linspace(-6, 6, 601)
    step = grid[1] - grid[0]
    density = smoothed_density(x, grid, bandwidth=0.1)
    assert density.sum() * step == pytest.approx(1.0, abs=1e-12)
    assert (density * grid).sum() * step == pytest.approx(x.mean(), abs=0.01)
    with pytest.raises(ValueError, match="grid"):
        smoothed_density(x + 100, grid, bandwidth=0.1)


def test_smoothed_density_of_a_point_mass_is_a_gaussian_of_the_bandwidth():
    grid = np.linspace(-2, 2, 401)
    density = smoothed_density(np.zeros(10), grid, bandwidth=0.05)  # 5 bins
    step = grid[1] - grid[0]
    assert (density * grid ** 2).sum() * step == pytest.approx(0.05 ** 2, rel=0.01)
    np.testing.assert_allclose(density, scipy.stats.norm.pdf(grid, scale=0.05), atol=0.02 * density.max())
