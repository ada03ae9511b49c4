"""Tests for adaptsym.boltzmann: the parallel-tempering sampler, Monte Carlo Boltzmann learning and the Mattis test
are checked against exact enumeration of small models (float64)."""

import numpy as np
import pytest

from adaptsym import boltzmann as bz
from adaptsym import ising
from small_cases import random_dense


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ADAPTSYM_CACHE", str(tmp_path / "cache"))


def mattis(n, strength, seed):
    """Mattis model J = (strength / N)(xi xi^T - I), h = 0: ordered (two states +-xi) for strength > 1."""
    xi = np.random.default_rng(seed).choice([-1.0, 1.0], size=n)
    return strength / n * (np.outer(xi, xi) - np.eye(n)), np.zeros(n), xi


def within_chain_errors(sampled, m, C, k=5.0):
    """Every magnetisation and pair moment of the samples within k chain-blocked standard errors of (m, C)."""
    m_mc, C_mc = ising.sample_moments(sampled.samples)
    m_error, C_error = ising.moment_errors(sampled.samples, sampled.chains)
    off = ~np.eye(len(m), dtype=bool)
    return bool(np.all(np.abs(m_mc - m) < k * m_error) and np.all(np.abs(C_mc - C)[off] < k * C_error[off]))


def test_temperature_ladder_is_geometric_from_one():
    betas = bz.temperature_ladder(5, 0.0625)
    np.testing.assert_allclose(betas, [1.0, 0.5, 0.25, 0.125, 0.0625], rtol=1e-14)
    np.testing.assert_array_equal(bz.temperature_ladder(1, 1.0), [1.0])
    with pytest.raises(ValueError, match="beta_min"):
        bz.temperature_ladder(3, 1.5)
    with pytest.raises(ValueError, match="n_chains"):
        bz.Tempering(n_chains=1)


def test_parallel_tempering_crosses_between_the_two_states_of_a_ferromagnet():
    """A ferromagnet (J_ij = 4 / N, N = 10) far below T_c with a weak field h = 0.03: two states, the + state
    e^{2 N h m*} ~ 1.8 times as likely. Every chain starts in the - state. Replica exchange (beta down to 0.1, in
    the paramagnet) crosses the barrier and matches the exact moments within 5 chain-blocked standard errors;
    plain Metropolis from the same start stays in the - state."""
    n = 10
    J, h = 4.0 / n * (np.ones((n, n)) - np.eye(n)), np.full(n, 0.03)
    m, C = ising.exact_moments(J, h)
    assert 0.2 < m.mean() < 0.4
    results = {}
    for name, tempering in (("tempering", bz.Tempering(32, 8, 0.1)), ("plain", bz.Tempering(32, 1, 1.0))):
        chains = bz.TemperingChains(n, tempering, seed=1)
        chains.spins[:] = -1.0
        results[name] = bz.parallel_tempering(J, h, 400, tempering, burn_in=50, thin=2, seed=1, progress=False,
                                              chains=chains)
    sampled = results["tempering"]
    assert sampled.samples.shape == (400 * 32, n) and sampled.samples.dtype == np.int8
    np.testing.assert_array_equal(sampled.chains[:64], np.tile(np.arange(32), 2))
    assert np.all(sampled.swap_rate > 0.2)
    assert within_chain_errors(sampled, m, C)
    assert not within_chain_errors(results["plain"], m, C)
    assert ising.sample_moments(results["plain"].samples)[0].mean() < -0.9


def test_parallel_tempering_is_reproducible_and_global_flips_keep_the_distribution():
    """The flip s -> -s accepted with min(1, exp(-2 beta h.s)) satisfies detailed balance for eq. 4: with it, a
    model with fields is still sampled exactly (moments within 5 chain-blocked errors of enumeration)."""
    J, h = random_dense(8, 0.4, 0.4, seed=3)
    tempering = bz.Tempering(32, 3, 0.5, global_flips=True)
    sampled = bz.parallel_tempering(J, h, 300, tempering, burn_in=50, seed=2, progress=False)
    again = bz.parallel_tempering(J, h, 300, tempering, burn_in=50, seed=2, progress=False)
    np.testing.assert_array_equal(sampled.samples, again.samples)
    assert within_chain_errors(sampled, *ising.exact_moments(J, h))


def test_monte_carlo_rmse_of_the_exact_model_is_its_noise():
    """A model judged against its own exact moments: the RMSE is Monte Carlo noise only, so it matches the
    predicted noise (within 30%) and passes within_noise with a zero floor; against moments 0.1 away it fails."""
    J, h = random_dense(8, 0.3, 0.3, seed=4)
    m, C = ising.exact_moments(J, h)
    sampled = bz.parallel_tempering(J, h, 200, bz.Tempering(32, 2, 0.5), burn_in=50, seed=0, progress=False)
    fit = bz.monte_carlo_rmse(sampled, m, C)
    assert fit.rmse == pytest.approx(fit.noise, rel=0.3)
    assert 0 < fit.error < fit.rmse
    assert bz.within_noise(fit.rmse, 0.0, 1.3 * fit.noise)
    shifted = bz.monte_carlo_rmse(sampled, np.clip(m + 0.1, -1, 1), C)
    assert not bz.within_noise(shifted.rmse, 0.0, shifted.noise)
    true_shift = ising.moment_rmse(np.clip(m + 0.1, -1, 1), C, m, C)  # of the exact moments
    assert shifted.excess == pytest.approx(true_shift, rel=0.1)
    assert bz.excess_rmse(0.03, 0.05) == 0.0 and bz.excess_rmse(0.05, 0.03) == pytest.approx(0.04, abs=1e-15)


def test_monte_carlo_learning_recovers_a_small_model():
    """Learning from the exact moments of a dense N = 8 model, started from independent spins (RMSE > 0.1):
    the learned model (averaged over the last 500 of 1000 steps, 32 x 2 samples each) has exact moments within
    RMSE 0.01 of the target, about twice the Monte Carlo error of the 32000 samples it averages over, and
    couplings within 0.05 of the true ones."""
    J, h = random_dense(8, 0.3, 0.3, seed=5)
    m, C = ising.exact_moments(J, h)
    assert ising.moment_rmse(m, C, m, np.outer(m, m)) > 0.1
    learning = bz.Learning(lr=0.2, decay=100, rounds=2, max_steps=1000, window=500, n_records=50)
    learned = bz.learn_monte_carlo(m, C, np.zeros((8, 8)), np.arctanh(m), None, bz.Tempering(32, 2, 0.5),
                                   learning, seed=0, progress=False)
    assert learned.steps == 1000 and not learned.converged and len(learned.rmse_trace) == 2
    assert ising.moment_rmse(m, C, *ising.exact_moments(learned.J, learned.h)) < 0.01
    assert np.abs(learned.J - J).max() < 0.05
    assert learned.final.rmse < 2 * learned.final.noise


def test_monte_carlo_learning_stops_at_the_floor():
    """Started from the true model, with a floor above the Monte Carlo noise, learning stops after its first
    block of steps."""
    J, h = random_dense(6, 0.3, 0.3, seed=6)
    m, C = ising.exact_moments(J, h)
    learned = bz.learn_monte_carlo(m, C, J, h, 0.05, bz.Tempering(32, 2, 0.5), bz.Learning(window=5, n_records=20),
                                   seed=0, progress=False)
    assert learned.converged and learned.steps == 5
    np.testing.assert_allclose(learned.J, J, atol=0.05)


def test_mattis_test_tells_an_ordered_two_state_model_from_a_paramagnet_and_a_spin_glass():
    """Planted Mattis model (strength 3, N = 12): rank one (share (N - 1) / N) and two states: a Mattis model.
    The same at strength 0.5 is rank one but paramagnetic (one state); a random SK-like J has no dominant
    eigenvalue. Neither is a Mattis model."""
    tempering = bz.Tempering(16, 6, 0.2)
    tests = {}
    for name, (J, h) in {"ordered": mattis(12, 3.0, 0)[:2], "paramagnet": mattis(12, 0.5, 0)[:2],
                         "spin glass": random_dense(12, 1.5 / np.sqrt(12), 0.0, seed=1)}.items():
        sampled = bz.parallel_tempering(J, h, 100, tempering, burn_in=50, seed=0, progress=False)
        tests[name] = bz.mattis_test(J, sampled, n_bootstrap=100, max_points=200, seed=0)
    for name in ("ordered", "paramagnet"):
        assert tests[name].share == pytest.approx(11 / 12, abs=1e-12)
    assert bz.is_two_state(tests["ordered"]) and bz.is_mattis(tests["ordered"])
    assert tests["paramagnet"].bimodality.delta_bic < 0 and not bz.is_two_state(tests["paramagnet"])
    assert not bz.is_mattis(tests["paramagnet"])
    assert tests["spin glass"].share < bz.MATTIS_SHARE and not bz.is_mattis(tests["spin glass"])


def planted_polarities(n_networks, draws, n_spins, flip, seed):
    """A two-polarity ensemble: network g draws ``draws`` configurations around sigma_g xi (sigma_g = +-1),
    each spin flipped with probability ``flip`` (Chapter 7's two polarities)."""
    rng = np.random.default_rng(seed)
    xi = rng.choice([-1, 1], size=n_spins)
    sigma = rng.choice([-1, 1], size=n_networks)
    base = sigma[:, None] * xi * np.where(rng.random((n_networks, n_spins)) < flip, -1, 1)
    noise = np.where(rng.random((n_networks, draws, n_spins)) < 0.02, -1, 1)
    return (base[:, None, :] * noise).reshape(-1, n_spins).astype(np.int8), np.repeat(np.arange(n_networks), draws)


SMALL = bz.SingleModelOptions(
    bp={"lr": 0.05, "momentum": 0.9, "max_steps": 100, "patience": 10, "damping": 0.5, "bp_max_iter": 200},
    pl_samples=400, tempering=bz.Tempering(16, 6, 0.2, global_flips=True),
    learning=bz.Learning(lr=0.05, momentum=0.5, max_steps=200, n_records=100), floor_repeats=10)


def test_single_model_fits_a_two_polarity_ensemble_under_monte_carlo_and_caches(monkeypatch):
    """On a planted two-polarity ensemble (200 networks, 10 spins) pseudolikelihood followed by Monte Carlo
    learning gives one model within the noise floor, an ordered two-state (Mattis) model; a second call reads
    the cache instead of fitting."""
    samples, groups = planted_polarities(200, 4, 10, 0.15, seed=0)
    result = bz.single_model(samples, groups, "pl+mc", SMALL, progress=False)
    assert result.method == "pl+mc" and result.J.shape == (10, 10) and result.h.shape == (10,)
    assert result.rmse_independent > 3 * result.floor  # the ensemble's pair structure is resolved
    assert result.within_noise
    assert result.is_mattis
    assert 0 < result.floor_error < result.floor and result.wall_s > 0
    monkeypatch.setattr(bz, "_fit_single", lambda *args: pytest.fail("the cached result was recomputed"))
    again = bz.single_model(samples, groups, "pl+mc", SMALL, progress=False)
    np.testing.assert_array_equal(again.J, result.J)
    assert again.mc_rmse == result.mc_rmse


def test_single_model_rejects_unknown_methods_and_mismatched_groups():
    samples, groups = planted_polarities(20, 2, 5, 0.1, seed=1)
    with pytest.raises(ValueError, match="valid methods: bp, bp\\+lr, pl, pl\\+mc"):
        bz.single_model(samples, groups, "tap", SMALL)
    with pytest.raises(ValueError, match="one label per configuration"):
        bz.single_model(samples, groups[:-1], "pl", SMALL)
    with pytest.raises(ValueError, match="momentum"):
        bz.Learning(momentum=1.0)


def test_the_chapter_fits_each_region_and_judges_it_against_the_floor():
    from types import SimpleNamespace

    from adaptsym import weight_space as ws

    samples, groups = planted_polarities(200, 4, 10, 0.15, seed=0)
    options = bz.chapter_options(ws.FitOptions(0.05, 0.9, 100, 10, 0.5, 200), 400, 0.01, 300, 16, 6, 0.2, 0.05, 200,
                                 50, 100, 100, 10, 100, 0)
    assert options.tempering.global_flips and options.learning.thin == 1 and options.bp["bp_tol"] == 1e-8
    found = bz.region_single_models({("under", "LB"): SimpleNamespace(samples=samples, groups=groups)}, ["pl"], options)
    (key, model), = found.items()
    assert key == ("under", "LB", "pl") and model.method == "pl"
    row = bz.single_model_row(key, model)
    assert len(row) == len(bz.SINGLE_COLUMNS) and row[:3] == ["under", "LB", "pl"] and row[-2:] == ["-", "-"]
    assert bz.reproduces_under_monte_carlo(model, True) is model.within_noise
    assert bz.reproduces_under_monte_carlo(model, False) is None  # fewer networks than spins: undecided
    nothing_to_fit = bz.SingleModel(**{**model.__dict__, "rmse_independent": model.floor / 2})
    assert bz.reproduces_under_monte_carlo(nothing_to_fit, True) is None
