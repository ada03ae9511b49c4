"""Tests for adaptsym.ising: every quantity is checked against exact enumeration written out here."""

import itertools

import numpy as np
import pytest
from scipy.optimize import approx_fprime

from adaptsym import ising
from small_cases import random_dense, random_tree


def all_states(n):
    return np.array(list(itertools.product([-1, 1], repeat=n)), dtype=float)


def boltzmann_weights(J, h):
    """Exact probabilities of all states, energy written as an explicit sum over pairs i < j."""
    states = all_states(len(h))
    pairs = list(itertools.combinations(range(len(h)), 2))
    energies = np.array([-sum(J[i, j] * s[i] * s[j] for i, j in pairs) - s @ h for s in states])
    p = np.exp(-energies)
    return states, p / p.sum()


def test_energy_is_pair_sum_and_density_divides_by_n():
    J, h = random_dense(5, 0.7, 0.5, seed=0)
    states = all_states(5)
    explicit = [-sum(J[i, j] * s[i] * s[j] for i, j in itertools.combinations(range(5), 2)) - s @ h
                for s in states]
    np.testing.assert_allclose(ising.energy(states, J, h), explicit, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ising.energy_density(states, J, h), np.array(explicit) / 5, atol=1e-12)
    assert np.ndim(ising.energy(states[3], J, h)) == 0


def test_exact_moments_n3_by_hand():
    J = np.array([[0.0, 0.4, -0.7], [0.4, 0.0, 0.25], [-0.7, 0.25, 0.0]])
    h = np.array([0.3, -0.2, 0.1])
    weights, m, C = {}, np.zeros(3), np.zeros((3, 3))
    for s in itertools.product([-1, 1], repeat=3):
        weights[s] = np.exp(0.4 * s[0] * s[1] - 0.7 * s[0] * s[2] + 0.25 * s[1] * s[2]
                            + 0.3 * s[0] - 0.2 * s[1] + 0.1 * s[2])
    Z = sum(weights.values())
    for s, w in weights.items():
        m += np.array(s) * w / Z
        C += np.outer(s, s) * w / Z
    m_exact, C_exact = ising.exact_moments(J, h)
    np.testing.assert_allclose(m_exact, m, atol=1e-14)
    np.testing.assert_allclose(C_exact, C, atol=1e-14)
    assert ising.exact_log_partition(J, h) == pytest.approx(np.log(Z), abs=1e-13)


def test_exact_enumeration_in_chunks_matches_one_array():
    """N = 16 spans two enumeration chunks; compare with a single 2^16-state computation."""
    J, h = random_dense(16, 0.3, 0.5, seed=1)
    states = all_states(16)
    log_w = 0.5 * np.sum((states @ J) * states, axis=1) + states @ h
    log_z = np.logaddexp.reduce(log_w)
    p = np.exp(log_w - log_z)
    m, C = ising.exact_moments(J, h)
    assert ising.exact_log_partition(J, h) == pytest.approx(log_z, abs=1e-10)
    np.testing.assert_allclose(m, p @ states, atol=1e-12)
    np.testing.assert_allclose(C, (states * p[:, None]).T @ states, atol=1e-12)
    np.testing.assert_allclose(np.diag(C), 1.0, atol=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_bp_is_exact_on_trees(seed):
    J, h = random_tree(8, seed, magnitude=(0.3, 1.2))
    m, C = ising.exact_moments(J, h)
    m_bp, C_bp, converged = ising.bp_moments(J, h, tol=1e-14)
    assert converged
    np.testing.assert_allclose(m_bp, m, atol=1e-10)
    # eq. 16b is the exact pair moment on every edge; non-adjacent pairs have J_ij = 0 and get
    # only m_{i->j} m_{j->i}, so only edges are compared.
    edges = J != 0
    np.testing.assert_allclose(C_bp[edges], C[edges], atol=1e-10)
    np.testing.assert_allclose(np.diag(C_bp), 1.0)


def test_bp_is_close_on_weakly_coupled_dense_models():
    """N = 10, J_ij ~ N(0, sigma^2 / N), sigma = 0.1.

    The Bethe pair formula misses the indirect correlations along paths i-k-j, of size
    sum_k J_ik J_kj <= |J_i.| |J_.j| ~ sigma^2 by Cauchy-Schwarz; we allow 2 sigma^2. BP contains
    the Onsager (TAP) reaction term, so magnetisation errors start with loops of length 3, of
    order sigma^3; we allow 2 sigma^3. Halving sigma must shrink the pair error about fourfold.
    """
    sigma, n = 0.1, 10
    pair_errors = []
    for seed in range(5):
        errors = []
        for scale in (sigma, sigma / 2):
            J, h = random_dense(n, scale / np.sqrt(n), 0.5, seed)
            m, C = ising.exact_moments(J, h)
            m_bp, C_bp, converged = ising.bp_moments(J, h)
            assert converged
            assert np.abs(m_bp - m).max() < 2 * scale**3
            assert np.abs(C_bp - C).max() < 2 * scale**2
            errors.append(np.abs(C_bp - C).max())
        pair_errors.append(errors[0] / errors[1])
    assert min(pair_errors) > 3.0


def test_bp_reports_non_convergence():
    J, h = random_tree(8, 0)
    *_, converged = ising.bp_moments(J, h, max_iter=1)
    assert not converged
    # A strongly antiferromagnetic complete graph: parallel BP oscillates and never settles.
    n = 10
    J = -np.ones((n, n)) + np.eye(n)
    h = np.random.default_rng(0).normal(0.0, 0.1, n)
    m, C, converged = ising.bp_moments(J, h, max_iter=500)
    assert not converged
    assert np.all(np.isfinite(m)) and np.all(np.abs(C) <= 1.0)


def test_bp_warm_start_and_damping_reach_the_same_fixed_point():
    J, h = random_dense(10, 0.1, 0.5, seed=3)
    m, C, converged, messages = ising.bp_moments(J, h, return_messages=True)
    assert converged
    m_warm, C_warm, warm_converged = ising.bp_moments(J, h, max_iter=1, messages=messages)
    assert warm_converged
    np.testing.assert_allclose(m_warm, m, atol=1e-10)
    np.testing.assert_allclose(C_warm, C, atol=1e-10)
    m_damped, C_damped, damped_converged = ising.bp_moments(J, h, damping=0.5, tol=1e-12)
    assert damped_converged
    np.testing.assert_allclose(m_damped, m, atol=1e-9)
    np.testing.assert_allclose(C_damped, C, atol=1e-9)


@pytest.mark.parametrize("seed", range(3))
def test_linear_response_is_exact_on_trees_for_all_pairs(seed):
    """On a tree the derivative dm_i/dh_j of BP is the exact connected correlation for every pair, also the
    non-adjacent ones, for which BP's pair beliefs give only m_i m_j."""
    J, h = random_tree(9, seed, magnitude=(0.3, 1.0))
    m, C = ising.exact_moments(J, h)
    m_lr, C_lr, converged = ising.bp_moments(J, h, tol=1e-14, linear_response=True)
    assert converged
    np.testing.assert_allclose(m_lr, m, atol=1e-12)
    np.testing.assert_allclose(C_lr, C, atol=1e-12)
    assert np.abs(ising.bp_moments(J, h, tol=1e-14)[1] - C).max() > 0.05  # the pair beliefs alone miss non-edges
    locked = ising.linear_response_moments(np.zeros(2), np.ones((2, 2)))  # a deterministic pair, |r| = 1
    np.testing.assert_allclose(locked, np.ones((2, 2)), atol=1e-9)


def test_linear_response_is_the_derivative_of_bp_on_a_loopy_graph():
    """On a dense graph linear response is approximate, but it is still exactly d m_BP / d h of BP's fixed
    point: compared with central finite differences of BP (step 1e-5, error ~ 1e-10)."""
    J, h = random_dense(9, 0.25, 0.4, seed=1)
    m, C_lr, _ = ising.bp_moments(J, h, tol=1e-15, max_iter=5000, linear_response=True)
    eps, chi = 1e-5, np.zeros((9, 9))
    for j in range(9):
        step = np.eye(9)[j] * eps
        chi[:, j] = (ising.bp_moments(J, h + step, tol=1e-15, max_iter=5000)[0]
                     - ising.bp_moments(J, h - step, tol=1e-15, max_iter=5000)[0]) / (2 * eps)
    off = ~np.eye(9, dtype=bool)
    np.testing.assert_allclose((C_lr - np.outer(m, m))[off], chi[off], atol=1e-8)
    m_exact, C_exact = ising.exact_moments(J, h)
    assert np.abs(C_lr - C_exact).max() > 1e-3  # not exact on loops: the comparison above is with BP


def test_fit_boltzmann_with_linear_response_recovers_a_tree_from_its_exact_moments():
    """BP + linear response is exact on a tree for all pairs, so eq. 5 with its moments converges to the tree
    itself, zeros included, from the exact moments of every pair."""
    J, h = random_tree(8, seed=2, magnitude=(0.2, 0.6))
    m, C = ising.exact_moments(J, h)
    fit = ising.fit_boltzmann(m, C, lr=0.2, momentum=0.8, tol=1e-10, max_steps=5000, linear_response=True,
                              progress=False)
    assert fit.converged
    np.testing.assert_allclose(fit.J, J, atol=1e-8)
    np.testing.assert_allclose(fit.h, h, atol=1e-8)


def likelihood_curvature(J, h):
    """Covariance of the statistics (s_i, s_i s_j) (fields first, then pairs i < j), by enumeration:
    the curvature (Fisher information per sample) of the log-likelihood that eq. 5 ascends."""
    states, p = boltzmann_weights(J, h)
    upper = np.triu_indices(len(h), 1)
    statistics = np.column_stack([states, states[:, upper[0]] * states[:, upper[1]]])
    mean = p @ statistics
    return (statistics * p[:, None]).T @ statistics - np.outer(mean, mean)


def largest_curvature(J, h):
    """Largest eigenvalue of :func:`likelihood_curvature`: above lr = 2 / it, eq. 5 is unstable."""
    return np.linalg.eigvalsh(likelihood_curvature(J, h))[-1]


def test_fit_boltzmann_matches_exact_tree_moments():
    """Eq. 5 is gradient ascent on the log-likelihood, whose curvature is the covariance of the
    statistics (s_i, s_i s_j); below the stability limit, lr = 1 / (its largest eigenvalue,
    computed here by enumeration), the moment error must shrink at every step."""
    J, h = random_tree(8, seed=1, magnitude=(0.1, 0.4))
    lr = 1.0 / largest_curvature(J, h)
    m, C = ising.exact_moments(J, h)
    fit = ising.fit_boltzmann(m, C, lr=lr, tol=1e-7, max_steps=3000, progress=False)
    assert fit.converged and fit.bp_converged
    assert fit.rmse_history[-1] < 1e-6
    assert np.all(np.diff(fit.rmse_history) < 0)
    m_fit, C_fit, _ = ising.bp_moments(fit.J, fit.h)
    assert ising.moment_rmse(m, C, m_fit, C_fit) == pytest.approx(fit.rmse_history[-1], abs=1e-9)
    np.testing.assert_allclose(fit.J, fit.J.T)
    np.testing.assert_allclose(np.diag(fit.J), 0.0)


def test_fit_boltzmann_inverts_bp_moments():
    """Given the BP moments of a dense model, learning must return that model's (J, h)."""
    J, h = random_dense(10, 0.5 / np.sqrt(10), 0.5, seed=0)
    m, C, _ = ising.bp_moments(J, h, tol=1e-13)
    fit = ising.fit_boltzmann(m, C, lr=0.2, momentum=0.8, tol=1e-10, progress=False)
    assert fit.converged
    J_fit, h_fit = fit  # the fit unpacks as the model (J, h)
    np.testing.assert_allclose(J_fit, J, atol=1e-7)
    np.testing.assert_allclose(h_fit, h, atol=1e-7)


def test_fit_boltzmann_recovers_a_weakly_coupled_model_from_exact_samples():
    """20000 exact samples of a dense N = 8 model with couplings of std 0.05.  Two errors add up:
    BP's own bias (the model whose BP moments equal the exact moments is not quite the true one;
    measured here by learning from the exact moments) and the sampling error of the maximum-
    likelihood estimate (standard errors from the exact Fisher information).  The fit must stay
    within the bias plus 5 standard errors, far below the couplings' own spread."""
    J, h = random_dense(8, 0.05, 0.3, seed=5)
    n = 20000
    options = dict(lr=0.2, momentum=0.8, tol=1e-10, max_steps=5000, progress=False)
    J_bias, h_bias = ising.fit_boltzmann(*ising.exact_moments(J, h), **options)
    assert np.abs(J_bias - J).max() < 0.015 and np.abs(h_bias - h).max() < 0.01
    fit = ising.fit_boltzmann(*ising.sample_moments(ising.sample_exact(J, h, n, seed=5)), **options)
    assert fit.converged
    se = np.sqrt(np.diag(np.linalg.inv(likelihood_curvature(J, h))) / n)
    assert np.abs(fit.h - h).max() < np.abs(h_bias - h).max() + 5 * se[:8].max()
    assert np.abs(fit.J - J).max() < np.abs(J_bias - J).max() + 5 * se[8:].max()
    assert np.corrcoef(ising.pair_couplings(fit.J), ising.pair_couplings(J))[0, 1] > 0.9


def test_fit_boltzmann_with_patience_returns_the_best_iterate():
    """Above the stability limit (lr = 2.5 / largest curvature eigenvalue) the RMSE falls, then
    rises: with patience the learning stops and hands back the iterate of lowest RMSE."""
    J, h = random_tree(8, seed=1, magnitude=(0.1, 0.4))
    m, C = ising.exact_moments(J, h)
    fit = ising.fit_boltzmann(m, C, lr=2.5 / largest_curvature(J, h), max_steps=500, tol=1e-12,
                              patience=5, progress=False)
    history = fit.rmse_history
    assert fit.best_step == int(np.argmin(history)) > 0
    assert len(history) == fit.best_step + 6 and history[-1] > history[fit.best_step]
    m_fit, C_fit, _ = ising.bp_moments(fit.J, fit.h)
    assert ising.moment_rmse(m, C, m_fit, C_fit) == pytest.approx(history[fit.best_step], abs=1e-9)
    plain = ising.fit_boltzmann(m, C, lr=0.1, max_steps=5, progress=False)
    assert plain.best_step == len(plain.rmse_history) - 1 == 5


def test_sample_moments_in_chunks():
    s = np.random.default_rng(0).choice([-1, 1], size=(11, 4)).astype(np.int8)
    m, C = ising.sample_moments(s, chunk=3)
    x = s.astype(float)
    np.testing.assert_allclose(m, x.mean(0), atol=1e-15)
    np.testing.assert_allclose(C, np.mean([np.outer(r, r) for r in x], axis=0), atol=1e-15)


def test_correlation_coefficients_match_numpy_and_survive_frozen_spins():
    s = np.random.default_rng(3).choice([-1, 1], size=(50, 5), p=[0.3, 0.7]).astype(np.int8)
    np.testing.assert_allclose(ising.correlation_coefficients(s), np.corrcoef(s.T.astype(float)), atol=1e-12)
    s[:, 2] = 1
    r = ising.correlation_coefficients(s)
    np.testing.assert_array_equal(r[2, [0, 1, 3, 4]], 0.0)
    assert r[2, 2] == 1.0 and np.all(np.isfinite(r))


def test_correlations_from_moments_equal_numpy_on_the_samples_and_zero_for_frozen_spins():
    rng = np.random.default_rng(2)
    samples = np.where(rng.random((500, 6)) < np.linspace(0.2, 0.9, 6), 1, -1).astype(np.int8)
    samples[:, 5] = samples[:, 4]  # a perfectly correlated pair
    r = ising.correlation_from_moments(*ising.sample_moments(samples))
    np.testing.assert_allclose(r, np.corrcoef(samples.T.astype(float)), atol=1e-12)
    frozen = ising.correlation_from_moments(np.array([1.0, 0.0]), np.array([[1.0, 0.0], [0.0, 1.0]]))
    assert np.array_equal(frozen, np.eye(2))


def test_moment_convergence_follows_the_sampling_noise():
    """Independent fair spins: m_i and C_ij of k rows have variance 1/k, so the subset-vs-all
    squared RMSE is 2 (1/k - 1/n); whole groups of identical rows count as one row."""
    n, k = 4000, 1000
    s = np.random.default_rng(1).choice([-1, 1], size=(n, 10)).astype(np.int8)
    rmse = ising.moment_convergence(s, [k, n], n_repeats=20, seed=0)
    assert rmse[0] == pytest.approx(np.sqrt(2 * (1 / k - 1 / n)), rel=0.1)
    assert rmse[1] == 0.0
    tripled = np.repeat(s[:300], 3, axis=0)
    grouped = ising.moment_convergence(tripled, [50, 150], groups=np.repeat(np.arange(300), 3), seed=4)
    np.testing.assert_allclose(grouped, ising.moment_convergence(s[:300], [50, 150], seed=4), atol=1e-15)


def test_noise_floor_is_the_half_ensemble_rmse_with_its_spread():
    """Fair independent spins, G groups: the floor (k = G/2) has squared value 2 (1/k - 1/G) = 2 / G, and it is
    moment_convergence at k = G/2 (the same random halves); the error is the spread over halves / sqrt(repeats)."""
    n_groups = 2000
    s = np.random.default_rng(7).choice([-1, 1], size=(n_groups, 12)).astype(np.int8)
    floor, error = ising.noise_floor(s, n_repeats=30, seed=3)
    assert floor == pytest.approx(ising.moment_convergence(s, [n_groups // 2], n_repeats=30, seed=3)[0], abs=1e-15)
    assert floor == pytest.approx(np.sqrt(2 / n_groups), rel=0.05)
    assert 0 < error < 0.02 * floor
    grouped = ising.noise_floor(np.repeat(s, 3, axis=0), np.repeat(np.arange(n_groups), 3), n_repeats=30, seed=3)
    assert grouped == pytest.approx((floor, error), abs=1e-15)  # whole groups of identical rows count once


def test_grouped_standard_error_is_the_spread_of_group_means():
    """Equal groups: the error is std(group means, ddof=1) / sqrt(G); for independent rows (every row its own
    group) it is the usual std / sqrt(n), which for fair spins is 1 / sqrt(n)."""
    rng = np.random.default_rng(4)
    values = rng.normal(size=(600, 3))
    groups = np.repeat(np.arange(40), 15)
    np.testing.assert_allclose(ising.grouped_standard_error(values, groups),
                               values.reshape(40, 15, 3).mean(1).std(0, ddof=1) / np.sqrt(40), rtol=1e-12)
    spins = rng.choice([-1.0, 1.0], size=(40000, 5))
    np.testing.assert_allclose(ising.grouped_standard_error(spins, None), spins.std(0, ddof=1) / 200, rtol=1e-12)
    assert ising.grouped_standard_error(spins, None) == pytest.approx(np.full(5, 1 / 200), rel=0.01)
    m_error, C_error = ising.moment_errors(spins[:600].astype(np.int8), groups)
    x = spins[:600].reshape(40, 15, 5)
    np.testing.assert_allclose(m_error, x.mean(1).std(0, ddof=1) / np.sqrt(40), rtol=1e-12)
    pair_means = np.einsum("gri,grj->gij", x, x) / 15
    np.testing.assert_allclose(C_error, pair_means.std(0, ddof=1) / np.sqrt(40), rtol=1e-10, atol=1e-15)


def test_moment_rmse_jackknife_leaves_out_one_group_at_a_time():
    rng = np.random.default_rng(5)
    s = rng.choice([-1, 1], size=(90, 6)).astype(np.int8)
    groups = rng.integers(0, 12, size=90)  # unequal groups
    m_ref, C_ref = np.full(6, 0.1), np.full((6, 6), 0.05)
    rmse, error = ising.moment_rmse_jackknife(s, groups, m_ref, C_ref)
    assert rmse == pytest.approx(ising.moment_rmse(*ising.sample_moments(s), m_ref, C_ref), abs=1e-14)
    left_out = np.array([ising.moment_rmse(*ising.sample_moments(s[groups != g]), m_ref, C_ref) for g in range(12)])
    assert error == pytest.approx(np.sqrt(11 / 12 * np.sum((left_out - left_out.mean()) ** 2)), abs=1e-14)


def slow_chains(n_chains, n_records, n_spins, flip, seed):
    """Independent stationary chains of fair spins, each spin flipped with probability ``flip`` per record, in
    the row order of metropolis_samples (row r: record r // n_chains of chain r % n_chains)."""
    rng = np.random.default_rng(seed)
    state = rng.choice([-1, 1], size=(n_chains, n_spins))
    records = np.empty((n_records, n_chains, n_spins), dtype=np.int8)
    for t in range(n_records):
        state = np.where(rng.random(state.shape) < flip, -state, state)
        records[t] = state
    return records.reshape(-1, n_spins), np.tile(np.arange(n_chains), n_records)


def test_three_point_errors_blocked_by_chain_and_not_by_time_slices():
    """Slow chains (each spin flips with probability 0.01 per record): a product of three fair spins has
    autocorrelation rho^t, rho = 0.98^3, so the variance of a chain's mean over L records is
    (1 / L) [1 + 2 sum_t (1 - t / L) rho^t]; the chain-blocked error must match sqrt(that / chains), while batch
    means over contiguous rows (time slices across all chains) see only the fast part and underestimate it."""
    n_chains, n_records = 300, 200
    s, chains = slow_chains(n_chains, n_records, 6, 0.01, seed=6)
    rho, t = (1 - 2 * 0.01) ** 3, np.arange(1, n_records)
    variance = (1 + 2 * np.sum((1 - t / n_records) * rho**t)) / n_records
    blocked = ising.three_point_errors(s, groups=chains)
    assert blocked.shape == (20,)
    assert blocked.mean() == pytest.approx(np.sqrt(variance / n_chains), rel=0.1)
    assert ising.three_point_errors(s, n_batches=20).mean() < 0.5 * blocked.mean()
    np.testing.assert_allclose(blocked, ising.grouped_standard_error(
        np.column_stack([s[:, i] * s[:, j] * s[:, k] for i, j, k in itertools.combinations(range(6), 3)]), chains),
        rtol=1e-12)


def two_polarity_ensemble(n_per_family, n_spins, flip, seed):
    """Two families of ±1 configurations, s = ±xi with each spin flipped with probability ``flip``:
    family +1 draws around the pattern xi, family -1 around -xi (the "polarities" of Chapter 7)."""
    rng = np.random.default_rng(seed)
    xi = rng.choice([-1, 1], size=n_spins)
    family = np.repeat([1, -1], n_per_family)
    noise = np.where(rng.random((2 * n_per_family, n_spins)) < flip, -1, 1)
    return (family[:, None] * xi * noise).astype(np.int8), family, xi


def test_leading_mode_finds_the_pattern_of_a_two_family_ensemble():
    """s = ±xi with 10% flips: the correlation matrix is about (1 - q) I + q xi xi^T with
    q = (1 - 2 flip)^2, so the top eigenvalue is 1 + (N - 1) q and its vector is xi / sqrt(N)."""
    s, _, xi = two_polarity_ensemble(2000, 40, 0.1, seed=0)
    value, vector = ising.leading_mode(s)
    assert value == pytest.approx(1 + 39 * 0.8**2, rel=0.05)
    assert abs(vector @ xi) / np.sqrt(40) == pytest.approx(1.0, abs=1e-3)
    assert ising.noise_edge(40, 4000) == pytest.approx((1 + 0.1) ** 2)
    assert value > 10 * ising.noise_edge(40, 4000)


def test_split_by_leading_mode_recovers_the_families_and_keeps_groups_whole():
    s, family, _ = two_polarity_ensemble(300, 50, 0.2, seed=1)
    labels = ising.split_by_leading_mode(s)
    assert abs(np.mean(labels == (family > 0)) - 0.5) == 0.5  # every row right, up to the global sign
    groups = np.arange(len(s)) // 3  # three rows per group, one family each
    grouped = ising.split_by_leading_mode(s, groups)
    assert np.all(grouped.reshape(-1, 3) == grouped.reshape(-1, 3)[:, :1])
    assert abs(np.mean(grouped == (family > 0)) - 0.5) == 0.5
    _, vector = ising.leading_mode(s)
    np.testing.assert_array_equal(ising.split_by_leading_mode(s, groups, vector), grouped)


def test_mixture_moments_are_the_moments_of_the_pooled_samples():
    s, family, _ = two_polarity_ensemble(150, 8, 0.3, seed=2)
    s = s[50:]  # unequal shares: 100 and 150 rows
    parts = [s[family[50:] == f] for f in (1, -1)]
    moments = [ising.sample_moments(part) for part in parts]
    m, C = ising.mixture_moments([len(p) for p in parts], *zip(*moments))
    m_all, C_all = ising.sample_moments(s)
    np.testing.assert_allclose(m, m_all, atol=1e-14)
    np.testing.assert_allclose(C, C_all, atol=1e-14)
    with pytest.raises(ValueError, match="one non-negative weight per component"):
        ising.mixture_moments([1.0], *zip(*moments))


def test_random_triplets():
    t = ising.random_triplets(12, 50, seed=0)
    assert t.shape == (50, 3) and len(np.unique(t, axis=0)) == 50
    assert np.all((t[:, 0] < t[:, 1]) & (t[:, 1] < t[:, 2])) and t.min() >= 0 and t.max() < 12
    np.testing.assert_array_equal(t, ising.random_triplets(12, 50, seed=0))
    assert not np.array_equal(t, ising.random_triplets(12, 50, seed=1))
    np.testing.assert_array_equal(ising.random_triplets(5, 100, seed=0), list(itertools.combinations(range(5), 3)))


def test_three_point_errors_are_batch_means_errors():
    """Fair independent spins: s_i s_j s_k has variance 1, so the standard error of its mean over
    n independent rows is 1/sqrt(n); repeating every row 4 times in place must not shrink it."""
    n = 20000
    s = np.random.default_rng(2).choice([-1, 1], size=(n, 8)).astype(np.int8)
    for rows in (s, np.repeat(s, 4, axis=0)):
        errors = ising.three_point_errors(rows, n_batches=50)
        assert errors.shape == (56,)
        assert errors.mean() == pytest.approx(1 / np.sqrt(n), rel=0.05)


def test_fraction_predicted_and_pair_couplings():
    data, model = np.array([0.0, 0.1, 0.5, -0.2]), np.array([0.05, 0.1, 0.0, 0.2])
    se_data, se_model = np.array([0.03, 0.01, 0.1, 0.1]), np.array([0.04, 0.01, 0.1, 0.1])
    # combined errors 0.05, 0.0141, 0.1414, 0.1414; |differences| 0.05, 0, 0.5, 0.4
    assert ising.fraction_predicted(data, model, se_data, se_model, k=1.0) == 0.5
    assert ising.fraction_predicted(data, model, se_data, se_model, k=3.0) == 0.75
    J = np.array([[0.0, 1.0, 2.0], [1.0, 0.0, 3.0], [2.0, 3.0, 0.0]])
    np.testing.assert_array_equal(ising.pair_couplings(J), [1.0, 2.0, 3.0])


def test_pseudolikelihood_objective_and_gradient():
    rng = np.random.default_rng(0)
    n_spins, l1, l2 = 4, 0.05, 0.3
    samples = rng.choice([-1, 1], size=(30, n_spins))
    x = np.abs(rng.normal(size=n_spins + 2 * n_spins**2))
    value, grad = ising._pseudolikelihood_objective(x, samples, l1, l2, batch_size=7)
    h = x[:n_spins]
    W = (x[n_spins:n_spins + n_spins**2] - x[n_spins + n_spins**2:]).reshape(n_spins, n_spins)
    expected = np.mean([sum(np.log1p(np.exp(-2 * s[i] * (h[i] + W[i] @ s))) for i in range(n_spins))
                        for s in samples])
    expected += l1 * np.abs(x[n_spins:]).sum() + 0.5 * l2 * np.sum(W**2)
    assert value == pytest.approx(expected, abs=1e-12)
    numerical = approx_fprime(x, lambda y: ising._pseudolikelihood_objective(y, samples, l1, l2, 7)[0],
                              1e-7)
    np.testing.assert_allclose(grad, numerical, atol=1e-5)


def pseudolikelihood_standard_errors(J, h, n):
    """Asymptotic standard errors of the per-spin pseudolikelihood estimates from n samples.

    Spin i's conditional is a logistic regression on x = (1, s_-i); its Fisher information is
    I = <(1 - tanh^2 F_i) x x^T>, computed exactly by enumeration, and SE = sqrt(diag(I^-1) / n).
    Returns the largest SE of a field and of a coupling.
    """
    states, p = boltzmann_weights(J, h)
    se_h, se_J = [], []
    for i in range(len(h)):
        x = np.column_stack([np.ones(len(states)), np.delete(states, i, axis=1)])
        weight = p * (1 - np.tanh(h[i] + states @ J[i]) ** 2)
        variances = np.diag(np.linalg.inv((x * weight[:, None]).T @ x)) / n
        se_h.append(np.sqrt(variances[0]))
        se_J.append(np.sqrt(variances[1:].max()))
    return max(se_h), max(se_J)


def test_fit_pseudolikelihood_recovers_model():
    """n = 20000 exact samples of an N = 8 model; errors must stay within 5 standard errors.

    The bound is the asymptotic sampling error of the maximum pseudolikelihood estimate (per-spin
    Fisher information, exact by enumeration; about 2-3 / sqrt(n) here). Symmetrising averages
    two estimates, which can only shrink the error. The ridge l2 = 1e-5 biases by ~1e-5.
    """
    n = 20000
    J, h = random_dense(8, 0.3, 0.3, seed=2)
    samples = ising.sample_exact(J, h, n, seed=2)
    J_fit, h_fit = ising.fit_pseudolikelihood(samples, progress=False)
    np.testing.assert_array_equal(J_fit, J_fit.T)
    np.testing.assert_array_equal(np.diag(J_fit), 0.0)
    se_h, se_J = pseudolikelihood_standard_errors(J, h, n)
    assert np.abs(J_fit - J).max() < 5 * se_J
    assert np.abs(h_fit - h).max() < 5 * se_h


def test_fit_pseudolikelihood_l1_finds_the_tree():
    """With an L1 penalty of 0.03 (above the ~0.01 sampling noise of absent couplings, below the
    tree couplings 0.4-0.8) exactly the tree's edges keep non-zero couplings."""
    J, h = random_tree(8, seed=3, magnitude=(0.4, 0.8))
    samples = ising.sample_exact(J, h, 20000, seed=1)
    J_fit, _ = ising.fit_pseudolikelihood(samples, l1=0.03, progress=False)
    np.testing.assert_array_equal(J_fit != 0, J != 0)
    np.testing.assert_array_equal(np.sign(J_fit), np.sign(J))


def test_sample_exact_is_reproducible_and_matches_moments():
    J, h = random_dense(6, 0.4, 0.5, seed=4)
    n = 20000
    samples = ising.sample_exact(J, h, n, seed=5)
    np.testing.assert_array_equal(samples, ising.sample_exact(J, h, n, seed=5))
    assert samples.shape == (n, 6) and set(np.unique(samples)) == {-1, 1}
    states, p = boltzmann_weights(J, h)
    m, C = p @ states, (states * p[:, None]).T @ states
    # standard errors of the sample means of s_i and s_i s_j (independent draws)
    assert np.all(np.abs(samples.mean(0) - m) < 5 * np.sqrt((1 - m**2) / n))
    upper = np.triu_indices(6, 1)
    C_sample = (samples.T.astype(float) @ samples / n)[upper]
    assert np.all(np.abs(C_sample - C[upper]) < 5 * np.sqrt((1 - C[upper] ** 2) / n))


def test_three_point_correlations_against_enumeration():
    J, h = random_dense(6, 0.4, 0.5, seed=6)
    states, p = boltzmann_weights(J, h)
    m = p @ states
    triplets = list(itertools.combinations(range(6), 3))
    raw = np.array([p @ (states[:, i] * states[:, j] * states[:, k]) for i, j, k in triplets])
    connected = np.array([p @ ((states[:, i] - m[i]) * (states[:, j] - m[j]) * (states[:, k] - m[k]))
                          for i, j, k in triplets])
    n = 20000
    samples = ising.sample_exact(J, h, n, seed=7).astype(float)
    for estimate, exact, x in [
        (ising.three_point_correlations(samples), raw, samples),
        (ising.three_point_correlations(samples, connected=True), connected, samples - samples.mean(0)),
    ]:
        standard_error = np.array([np.std(x[:, i] * x[:, j] * x[:, k]) for i, j, k in triplets]) / np.sqrt(n)
        assert np.all(np.abs(estimate - exact) < 5 * standard_error)
    chosen = np.array([[0, 2, 5], [1, 3, 4]])
    np.testing.assert_allclose(ising.three_point_correlations(samples, chosen),
                               [np.mean(samples[:, 0] * samples[:, 2] * samples[:, 5]),
                                np.mean(samples[:, 1] * samples[:, 3] * samples[:, 4])], atol=1e-14)


def test_metropolis_moments_match_exact():
    n_spins, n_chains = 8, 200
    J, h = random_dense(n_spins, 0.3, 0.3, seed=0)
    samples = ising.metropolis_samples(J, h, n_samples=50 * n_chains, n_chains=n_chains, burn_in=50,
                                       thin=2, seed=0, progress=False)
    np.testing.assert_array_equal(samples, ising.metropolis_samples(
        J, h, n_samples=50 * n_chains, n_chains=n_chains, burn_in=50, thin=2, seed=0, progress=False))
    assert samples.shape == (50 * n_chains, n_spins)
    same, chains = ising.metropolis_samples(J, h, n_samples=50 * n_chains, n_chains=n_chains, burn_in=50, thin=2,
                                            seed=0, progress=False, return_chains=True)
    np.testing.assert_array_equal(same, samples)
    np.testing.assert_array_equal(chains, np.arange(len(samples)) % n_chains)
    m, C = ising.exact_moments(J, h)
    # chains are independent: standard errors from the spread of per-chain averages
    x = samples.reshape(-1, n_chains, n_spins).astype(float)
    chain_m = x.mean(0)
    chain_C = np.einsum("tci,tcj->cij", x, x) / x.shape[0]
    upper = np.triu_indices(n_spins, 1)
    for per_chain, exact in [(chain_m, m), (chain_C[:, upper[0], upper[1]], C[upper])]:
        standard_error = per_chain.std(0, ddof=1) / np.sqrt(n_chains)
        assert np.all(np.abs(per_chain.mean(0) - exact) < 5 * standard_error)


def test_metropolis_sweep_reports_the_energy_change_and_samples_each_temperature():
    """The returned change is E(after) - E(before) for every column; columns at beta sample eq. 4 with
    (beta J, beta h), checked against enumeration within 5 chain-blocked standard errors."""
    J, h = random_dense(6, 0.4, 0.3, seed=2)
    rng = np.random.default_rng(0)
    spins = rng.choice([-1.0, 1.0], size=(6, 400))
    beta = np.repeat([1.0, 0.5], 200)
    before = ising.energy(spins.T, J, h)
    change = ising.metropolis_sweep(spins, J, h, beta, rng)
    np.testing.assert_allclose(change, ising.energy(spins.T, J, h) - before, atol=1e-12)
    records = []
    for _ in range(300):
        ising.metropolis_sweep(spins, J, h, beta, rng)
        records.append(spins.T.copy())
    records = np.array(records[50:])  # (time, column, spin)
    for columns, b in ((slice(0, 200), 1.0), (slice(200, 400), 0.5)):
        x = records[:, columns].reshape(-1, 6)
        chains = np.tile(np.arange(200), len(records))
        m, C = ising.exact_moments(b * J, b * h)
        m_error, C_error = ising.moment_errors(x, chains)
        m_mc, C_mc = ising.sample_moments(x)
        assert np.all(np.abs(m_mc - m) < 5 * m_error)
        off = ~np.eye(6, dtype=bool)
        assert np.all(np.abs(C_mc - C)[off] < 5 * C_error[off])


def test_invalid_inputs_raise_clear_errors():
    J, h = random_dense(4, 0.3, 0.3, seed=0)
    asymmetric = J.copy()
    asymmetric[0, 1] += 0.1
    self_coupled = J + np.eye(4)
    for bad_J, bad_h, message in [(asymmetric, h, "symmetric"), (self_coupled, h, "diagonal"),
                                  (J, h[:3], "shape"), (J[:3], h, "square")]:
        with pytest.raises(ValueError, match=message):
            ising.bp_moments(bad_J, bad_h)
    big_J, big_h = np.zeros((21, 21)), np.zeros(21)
    for exact in (ising.exact_moments, ising.exact_log_partition):
        with pytest.raises(ValueError, match="N <= 20"):
            exact(big_J, big_h)
    with pytest.raises(ValueError, match="N <= 20"):
        ising.sample_exact(big_J, big_h, 10, seed=0)
    with pytest.raises(ValueError, match=r"\{-1, \+1\}"):
        ising.energy(np.array([[0, 1, 1, -1]]), J, h)
    with pytest.raises(ValueError, match="shape"):
        ising.energy(np.ones((2, 3)), J, h)
    with pytest.raises(ValueError, match="damping"):
        ising.bp_moments(J, h, damping=1.0)
    with pytest.raises(ValueError, match="messages"):
        ising.bp_moments(J, h, messages=np.zeros((3, 3)))
    with pytest.raises(ValueError, match="C_data"):
        ising.fit_boltzmann(np.zeros(4), np.eye(3), progress=False)
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        ising.fit_boltzmann(np.full(4, 1.5), np.eye(4), progress=False)
    m, C, _ = ising.bp_moments(J, h)
    with pytest.raises(FloatingPointError, match="lower lr"), np.errstate(invalid="ignore"):
        ising.fit_boltzmann(m, C, lr=50.0, progress=False)
    samples = np.ones((5, 4))
    with pytest.raises(ValueError, match="non-negative"):
        ising.fit_pseudolikelihood(samples, l1=-1.0, progress=False)
    with pytest.raises(ValueError, match="triplets"):
        ising.three_point_correlations(samples, triplets=np.array([[0, 1]]))
    with pytest.raises(ValueError, match="triplet indices"):
        ising.three_point_correlations(samples, triplets=np.array([[0, 1, 4]]))
    with pytest.raises(ValueError, match="n_chains"):
        ising.metropolis_samples(J, h, n_samples=10, n_chains=0, seed=0, progress=False)
    with pytest.raises(ValueError, match="patience"):
        ising.fit_boltzmann(m, C, patience=0, progress=False)
    spins = np.ones((6, 4), dtype=np.int8)
    with pytest.raises(ValueError, match="group counts in 1..6"):
        ising.moment_convergence(spins, [7])
    with pytest.raises(ValueError, match="one label per configuration"):
        ising.moment_convergence(spins, [2], groups=[0, 1])
    with pytest.raises(ValueError, match="n_batches must lie in 2..6"):
        ising.three_point_errors(spins, n_batches=7)
    with pytest.raises(ValueError, match="at least 2 groups"):
        ising.three_point_errors(spins, groups=np.zeros(6))
    with pytest.raises(ValueError, match="at least 2 groups"):
        ising.moment_errors(spins, np.zeros(6))
    with pytest.raises(ValueError, match="at least 2 groups and 2 repeats"):
        ising.noise_floor(spins, n_repeats=1)

    with pytest.raises(ValueError, match="n_spins >= 3"):
        ising.random_triplets(2, 5, seed=0)
    with pytest.raises(ValueError, match="same shape"):
        ising.fraction_predicted(np.zeros(3), np.zeros(2), 1.0, 1.0)
    with pytest.raises(ValueError, match="square"):
        ising.pair_couplings(np.zeros((2, 3)))
