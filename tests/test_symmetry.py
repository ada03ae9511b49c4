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
    # x = (1, 2, -3, 2), -x = (-1, -2, 3, -2): at t = 2 the CDFs are 3/4 and 1/4
    assert reflection_ks(np.array([1.0, 2.0, -3.0, 2.0])) == pytest.approx(0.5, abs=1e-15)
    assert reflection_ks(torch.tensor([-1.0, 1.0, -2.0, 2.0])) == 0.0
    with pytest.raises(ValueError, match="NaN"):
        reflection_ks(np.array([1.0, np.nan]))


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


def test_bootstrap_intervals_cover_the_true_skewness_and_mean_over_std():
    shape = 4.0  # Gamma(k): skewness 2/sqrt(k), mean/std sqrt(k)
    truth = {"skewness": 2 / np.sqrt(shape), "mean_over_std": np.sqrt(shape)}
    covered = {key: 0 for key in truth}
    repetitions = 100  # n = 2000: at n = 400 the sample skewness is biased low and the interval covers only ~84%
    for seed in range(repetitions):
        sample = np.random.default_rng(100 + seed).gamma(shape, size=2000)
        stats = symmetry_stats(sample, n_boot=40, seed=seed)
        for key, value in truth.items():
            covered[key] += abs(stats[key] - value) <= 1.96 * stats[f"{key}_se"]
    for key in truth:
        assert 0.85 <= covered[key] / repetitions <= 0.99, (key, covered[key])


def test_subsampling_and_sign_changes():
    x = np.random.default_rng(3).standard_normal(1000)
    stats = symmetry_stats(x, n_boot=10, max_samples=100)
    assert (stats["n"], stats["n_total"]) == (100, 1000)
    assert symmetry_stats(x, n_boot=10, seed=4) == symmetry_stats(x, n_boot=10, seed=4)
    assert sign_change_fraction([1.0, -2.0, 3.0, -4.0], [1.0, 2.0, -3.0, -4.0]) == 0.5


def test_independent_gates_look_like_their_shuffled_baseline():
    gates = np.random.default_rng(5).random((2000, 40)) < 0.5
    result = gate_correlations(gates, seed=5)
    assert result["r"].shape == (40 * 39 // 2,)
    assert result["mean_abs"] == pytest.approx(result["mean_abs_shuffled"], rel=0.15)
    assert result["mean_abs"] == pytest.approx(np.sqrt(2 / np.pi / 2000), rel=0.15)  # |N(0, 1/m)|


def test_planted_correlated_gates_and_constant_units():
    rng = np.random.default_rng(6)
    m, p = 5000, 0.6
    latent = rng.random(m) < 0.5
    copies = np.where(rng.random((m, 10)) < p, latent[:, None], rng.random((m, 10)) < 0.5)
    gates = np.column_stack([copies, np.ones(m), np.zeros(m)])
    result = gate_correlations(gates)
    # each unit copies the latent with probability p, else is an independent fair coin: corr = p^2
    assert result["n_constant"] == 2 and result["n_units"] == 12
    assert np.mean(result["r"]) == pytest.approx(p ** 2, abs=0.02)
    assert result["mean_abs_shuffled"] < 0.05


def test_smoothed_density_integrates_to_one_and_keeps_the_mean():
    x = np.random.default_rng(7).normal(0.5, 1.0, 20000)
    grid = np.linspace(-6, 6, 601)
    density = smoothed_density(x, grid, bandwidth=0.1)
    step = grid[1] - grid[0]
    assert density.sum() * step == pytest.approx(1.0, abs=1e-12)
    assert (density * grid).sum() * step == pytest.approx(x.mean(), abs=0.01)
    assert scipy.stats.skew(x) == pytest.approx(0.0, abs=0.05)
