"""Tests for adaptsym.landscape: every quantity is checked against exact enumeration of small models."""

import numpy as np
import pytest
from scipy.optimize import approx_fprime, brentq

from adaptsym import ising, landscape
from small_cases import random_dense, random_tree


def exact_point(J, h, ref, x, beta=1.0):
    """ln Z/N, q, e = <E>/N and s = ln Z/N + β e - x q of eq. 19 by enumeration."""
    n, fields = len(h), beta * h + x * ref
    log_z = ising.exact_log_partition(beta * J, fields)
    m, C = ising.exact_moments(beta * J, fields)
    e = (-0.5 * np.sum(J * C) - h @ m) / n
    q = ref @ m / n
    return {"log_z": log_z / n, "q": q, "e": e, "s": log_z / n + beta * e - x * q}


def cavity_fields(J, h):
    return ising.bp_moments(J, h, tol=1e-13, return_messages=True)[3]


def test_bethe_log_partition_is_exact_on_a_tree_and_ignores_zero_couplings():
    J, h = random_tree(10, seed=1, magnitude=(0.2, 1.0))
    np.testing.assert_allclose(landscape.bethe_log_partition(J, h, cavity_fields(J, h)),
                               ising.exact_log_partition(J, h), rtol=0, atol=1e-10)
    two = np.array([[0.0, 0.7], [0.7, 0.0]])  # Z = 4 cosh J at h = 0
    assert landscape.bethe_log_partition(two, np.zeros(2), np.zeros((2, 2))) == pytest.approx(np.log(4 * np.cosh(0.7)))
    assert landscape.bethe_log_partition(np.zeros((3, 3)), np.array([0.1, -2.0, 0.5]), np.ones((3, 3))) == \
        pytest.approx(np.sum(np.log(2 * np.cosh([0.1, -2.0, 0.5]))))


def test_landscape_matches_enumeration_on_a_tree():
    J, h = random_tree(12, seed=2, magnitude=(0.2, 1.0))
    ref = np.random.default_rng(3).choice([-1, 1], 12)
    xs = [-2.5, -0.4, 0.0, 0.8, 3.0]
    found = landscape.entropy_landscape(J, h, ref, xs, tol=1e-12)
    assert found.converged.all()
    for k, x in enumerate(xs):
        exact = exact_point(J, h, ref, x)
        assert found.free_energy[k] == pytest.approx(-exact["log_z"], abs=1e-9)
        assert found.q[k] == pytest.approx(exact["q"], abs=1e-9)
        assert found.d[k] == pytest.approx((1 - exact["q"]) / 2, abs=1e-9)
        assert found.energy_uncoupled[k] == pytest.approx(exact["e"], abs=1e-9)
        assert found.energy[k] == pytest.approx(exact["e"] - x * exact["q"], abs=1e-9)
        assert found.s[k] == pytest.approx(exact["s"], abs=1e-9)
        assert found.s[k] == pytest.approx(found.energy[k] - found.free_energy[k], abs=1e-12)
    np.testing.assert_array_equal(found.x, xs)
    np.testing.assert_array_equal(found.beta, 1.0)


def test_landscape_matches_enumeration_within_a_loose_tolerance_on_a_weakly_coupled_loopy_model():
    J, h = random_dense(10, 0.1, 0.4, seed=4)
    ref = np.sign(h + 0.1 * np.random.default_rng(5).normal(size=10))
    found = landscape.entropy_landscape(J, h, ref, [-1.0, 0.0, 1.0])
    for k, x in enumerate(found.x):
        exact = exact_point(J, h, ref, x)
        assert found.s[k] == pytest.approx(exact["s"], abs=2e-3)
        assert found.q[k] == pytest.approx(exact["q"], abs=2e-3)
        assert found.free_energy[k] == pytest.approx(-exact["log_z"], abs=2e-3)
    assert abs(found.s[1] - exact_point(J, h, ref, 0.0)["s"]) > 1e-7  # loopy: BP is not exact


def test_independent_unbiased_spins_saturate_the_distance_bound_and_models_stay_below_it():
    ref = np.array([1, -1, -1, 1, 1, -1])
    xs = np.linspace(-3, 3, 13)
    free = landscape.entropy_landscape(np.zeros((6, 6)), np.zeros(6), ref, xs)
    np.testing.assert_allclose(free.s, landscape.distance_bound(free.d), atol=1e-12)
    np.testing.assert_allclose(free.d, (1 - np.tanh(xs)) / 2, atol=1e-12)
    J, h = random_tree(6, seed=6, magnitude=(0.2, 1.0))
    tree = landscape.entropy_landscape(J, h, ref, xs, tol=1e-12)
    assert np.all(tree.s < tree.bound - 1e-6)
    assert landscape.distance_bound(0.5) == pytest.approx(np.log(2))
    np.testing.assert_array_equal(landscape.distance_bound([0.0, 1.0]), [0.0, 0.0])


def curie_weiss(n, j0):
    return np.full((n, n), j0 / n) - np.diag(np.full(n, j0 / n)), np.zeros(n)


def test_curie_weiss_ferromagnet_shows_hysteresis_below_the_critical_temperature_and_none_above():
    """J_ij = J0/N, h = 0, reference all +1: mean field m = tanh(J0 m + x) has spinodals at x = ±0.21 for
    J0 = 1.5, so the sweeps from -3 to 3 and back jump (Δd ≈ 0.75) at opposite fields; at J0 = 0.5 the largest
    slope dd/dx is 1/(2(1 - J0)) = 1, a change of at most 0.05 per step of 0.05, and the sweeps coincide (to
    within the BP tolerance)."""
    ref = np.ones(60)
    forward, backward = landscape.sweep_both_ways(*curie_weiss(60, 1.5), ref, 3.0, 0.05, tol=1e-6)
    assert forward.converged.all() and backward.converged.all()
    assert landscape.hysteresis_area(forward, backward) > 0.2
    assert landscape.largest_jump(forward) > 0.5 and landscape.largest_jump(backward) > 0.5
    jump = np.argmax(np.abs(np.diff(forward.d)))
    assert 0.1 < forward.x[jump + 1] < 0.35  # the spinodal, not x = 0
    forward, backward = landscape.sweep_both_ways(*curie_weiss(60, 0.5), ref, 3.0, 0.05, tol=1e-6)
    assert landscape.hysteresis_area(forward, backward) < 1e-5
    assert landscape.largest_jump(forward) <= 0.0505
    np.testing.assert_allclose(forward.x, backward.x[::-1])


def test_hysteresis_area_and_largest_jump_of_hand_made_sweeps():
    def sweep(x, d):
        x, d = np.asarray(x, dtype=float), np.asarray(d, dtype=float)
        zeros = np.zeros_like(x)
        return landscape.Landscape(x, d, zeros, 1 - 2 * d, zeros, zeros, zeros, zeros == 0, zeros + 1)

    forward = sweep([0, 1, 2, 3], [1.0, 1.0, 0.2, 0.1])
    backward = sweep([3, 2, 1, 0], [0.1, 0.2, 0.3, 1.0])
    assert landscape.hysteresis_area(forward, backward) == pytest.approx(0.35 + 0.35)
    assert landscape.largest_jump(forward) == pytest.approx(0.8)
    assert landscape.largest_jump(backward) == pytest.approx(0.7)
    with pytest.raises(ValueError, match="same coupling fields"):
        landscape.hysteresis_area(forward, sweep([3, 2, 1], [0.1, 0.2, 0.3]))


@pytest.mark.parametrize("reference", ["low energy", "random"])
def test_iso_energy_curve_matches_enumeration_on_a_tree(reference):
    """At every x, β solves e(β, x) = E(σ*)/N exactly (by enumeration), and the entropy is the exact one there.
    The low-energy reference is a Boltzmann sample (E/N = -0.74, ground state -0.95); a random reference lies above
    the mean energy at β = 0 and needs β < 0 near x = 0."""
    J, h = random_tree(10, seed=7, magnitude=(0.2, 1.0))
    ref = ising.sample_exact(J, h, 1, seed=8)[0] if reference == "low energy" else \
        np.random.default_rng(9).choice([-1, 1], 10)
    target = ising.energy(ref, J, h) / 10
    found = landscape.iso_energy_landscape(J, h, ref, [-1.0, 0.0, 1.0, 2.5], beta_tol=1e-12, tol=1e-12)
    assert found.converged.all()
    for k, x in enumerate(found.x):
        exact_beta = brentq(lambda b: exact_point(J, h, ref, x, b)["e"] - target, -10, 10, xtol=1e-13)
        assert found.beta[k] == pytest.approx(exact_beta, abs=1e-7)
        assert found.energy_uncoupled[k] == pytest.approx(target, abs=1e-9)
        assert found.s[k] == pytest.approx(exact_point(J, h, ref, x, found.beta[k])["s"], abs=1e-8)
    assert (found.beta.min() < 0) == (reference == "random")


def test_iso_energy_point_without_a_root_is_nan_and_not_converged():
    """Free spins, h = 1, reference all -1 (the highest energy, e = 1): at x = -0.5, m = tanh(β + 0.5) reaches -1
    only as β -> -∞, so within |β| <= 0.5 there is no root."""
    found = landscape.iso_energy_landscape(np.zeros((4, 4)), np.ones(4), -np.ones(4), [-0.5], beta_max=0.5)
    assert not found.converged[0] and np.isnan(found.s[0]) and np.isnan(found.beta[0])


def weak_model(scale):
    rng = np.random.default_rng(11)
    J = np.triu(rng.normal(0.0, 1.0, (8, 8)), 1)
    return scale * (J + J.T) / np.sqrt(8), rng.normal(0.0, 0.5, 8)


def test_tap_free_energy_matches_the_exact_one_to_third_order_in_the_couplings():
    """Plefka: -βF_TAP = ln Z + O(J³), so halving the couplings divides the error by about 8 (a missing field term
    would leave an O(1) error, an Onsager term with (1 - m)² instead of 1 - m² an O(J²) one)."""
    errors = []
    for scale in (0.2, 0.1, 0.05):
        J, h = weak_model(scale)
        states = landscape.tap_states(J, h, n_starts=4, seed=0)
        assert states.converged.all()
        np.testing.assert_allclose(states.m - states.m[0], 0.0, atol=1e-8)  # weak couplings: one state
        errors.append(abs(-8 * states.free_energy[0] - ising.exact_log_partition(J, h)))
    assert errors[-1] < 1e-4
    for coarse, fine in zip(errors, errors[1:]):
        assert 6.5 < coarse / fine < 9.5


def test_tap_fixed_points_solve_the_tap_equations_and_are_stationary_points_of_the_free_energy():
    J, h = weak_model(0.6)
    states = landscape.tap_states(J, h, n_starts=3, seed=1, beta=0.8)
    assert states.converged.all() and states.residual.max() < 1e-8
    m = states.m[0]
    np.testing.assert_allclose(landscape.tap_residual(J, h, m, beta=0.8), states.residual[:1])
    gradient = approx_fprime(m, lambda v: landscape.tap_free_energy(J, h, v, beta=0.8), 1e-7)
    np.testing.assert_allclose(gradient, 0.0, atol=1e-6)
    assert abs(approx_fprime(m + 0.05, lambda v: landscape.tap_free_energy(J, h, v, 0.8), 1e-7)).max() > 1e-3


def test_tap_states_of_an_ordered_ferromagnet_are_its_two_states():
    """Curie-Weiss at J0 = 2 with a weak field: the up state (lower free energy) and the metastable down state."""
    J, _ = curie_weiss(50, 2.0)
    h = np.full(50, 0.01)
    states = landscape.tap_states(J, h, n_starts=40, seed=2)
    assert states.converged.all()
    means = states.m.mean(axis=1)
    assert np.all(np.abs(np.abs(means) - 0.957) < 0.01) and (means > 0).any() and (means < 0).any()
    assert states.free_energy[means > 0].max() < states.free_energy[means < 0].min()
    groups = landscape.free_energy_groups(states.free_energy, resolution=1e-6)
    assert len(groups) == 2 and sum(map(len, groups)) == 40
    assert landscape.free_energy_groups([], 1.0) == []


def test_entropy_by_integration_of_exact_variances_is_the_exact_entropy():
    J, h = random_dense(8, 0.4, 0.3, seed=12)
    betas = np.linspace(0.0, 1.0, 201)
    variances = []
    for beta in betas:
        weights = np.exp(-beta * ising.energy(all_states(8), J, h))
        p = weights / weights.sum()
        energies = ising.energy(all_states(8), J, h)
        variances.append(p @ energies**2 - (p @ energies) ** 2)
    exact = exact_point(J, h, np.ones(8), 0.0)["s"] * 8
    assert landscape.entropy_by_integration(8, betas, variances) == pytest.approx(exact, abs=1e-4)
    with pytest.raises(ValueError, match="start at 0"):
        landscape.entropy_by_integration(8, betas[1:], variances[1:])


def all_states(n):
    return ((np.arange(2**n)[:, None] >> np.arange(n)) & 1) * 2 - 1


def test_heat_capacity_entropy_agrees_with_enumeration_within_its_error():
    J, h = random_dense(10, 0.3, 0.3, seed=13)
    found = landscape.heat_capacity_entropy(J, h, np.linspace(0.0, 1.0, 11), n_samples=3000, seed=0)
    exact = exact_point(J, h, np.ones(10), 0.0)["s"] * 10
    assert 0 < found.error < 0.1
    assert abs(found.entropy - exact) < 4 * found.error + 0.01
    again = landscape.heat_capacity_entropy(J, h, np.linspace(0.0, 1.0, 11), n_samples=3000, seed=0)
    assert again.entropy == found.entropy


def test_metropolis_dynamics_samples_the_boltzmann_distribution():
    """Detailed balance: a long chain from any start has the exact moments and mean energy."""
    J, h = random_dense(5, 0.6, 0.3, seed=15)
    start = np.array([1, 1, -1, -1, 1])
    records = []
    found = landscape.metropolis_dynamics(J, h, start, n_sweeps=30000, record_every=1, seed=2,
                                          observe=lambda s: records.append(s) or np.arange(len(s)))
    samples = records[0][1000:].astype(float)
    m, C = ising.exact_moments(J, h)
    np.testing.assert_allclose(samples.mean(0), m, atol=0.03)
    np.testing.assert_allclose(samples.T @ samples / len(samples), C, atol=0.03)
    assert abs(found.energy[1000:].mean() - (-0.5 * np.sum(J * C) - h @ m) / 5) < 0.02
    np.testing.assert_array_equal(found.observed, np.arange(30001))
    np.testing.assert_allclose(found.overlap, records[0] @ start / 5)


def test_metropolis_dynamics_records_the_start_and_every_kth_sweep_reproducibly():
    J, h = random_dense(6, 0.5, 0.4, seed=14)
    start = np.array([1, 1, -1, -1, 1, -1])
    found = landscape.metropolis_dynamics(J, h, start, n_sweeps=10, record_every=5, seed=1)
    np.testing.assert_array_equal(found.sweeps, [0, 5, 10])
    assert found.overlap[0] == 1.0 and found.energy[0] == pytest.approx(ising.energy(start, J, h) / 6)
    assert np.isnan(found.observed).all()
    again = landscape.metropolis_dynamics(J, h, start, n_sweeps=10, record_every=5, seed=1)
    np.testing.assert_array_equal(again.energy, found.energy)
    frozen = landscape.metropolis_dynamics(J, h, start, n_sweeps=10, record_every=5, seed=1, beta=50.0)
    assert frozen.energy[-1] <= frozen.energy[0]


def test_bad_arguments_are_rejected_with_the_offending_value():
    J, h = random_tree(4, seed=16, magnitude=(0.2, 1.0))
    with pytest.raises(ValueError, match="reference must be one ±1 configuration"):
        landscape.entropy_landscape(J, h, [1, 0, 1, 1], [0.0])
    with pytest.raises(ValueError, match="xs must be a non-empty"):
        landscape.entropy_landscape(J, h, np.ones(4), [])
    with pytest.raises(ValueError, match="x_max and step must be positive"):
        landscape.sweep_both_ways(J, h, np.ones(4), 3.0, 0.0)
    with pytest.raises(ValueError, match="record_every"):
        landscape.metropolis_dynamics(J, h, np.ones(4), 10, 0, seed=0)
    with pytest.raises(ValueError, match="n_batches"):
        landscape.heat_capacity_entropy(J, h, [0.0, 1.0], 10, seed=0, n_chains=4, n_batches=8)
    with pytest.raises(ValueError, match="lie in \\[-1, 1\\]"):
        landscape.tap_free_energy(J, h, np.full(4, 1.5))


def hand_landscape(x, d, converged=None, s=None):
    x, d = np.asarray(x, dtype=float), np.asarray(d, dtype=float)
    zeros = np.zeros_like(x)
    ok = np.ones_like(x, dtype=bool) if converged is None else np.asarray(converged)
    return landscape.Landscape(x, d, zeros if s is None else np.asarray(s, float), 1 - 2 * d, zeros, zeros, zeros,
                               ok, zeros + 1)


def test_hysteresis_area_over_converged_points_ignores_failed_fixed_points():
    forward = hand_landscape([0, 1, 2], [1.0, 1.0, 0.0], converged=[True, False, True])
    backward = hand_landscape([2, 1, 0], [0.0, 0.0, 1.0])
    assert landscape.hysteresis_area(forward, backward) == pytest.approx(1.0)
    assert landscape.hysteresis_area(forward, backward, converged_only=True) == 0.0
    sweep = landscape.Sweep(forward, backward)
    assert sweep.area == 0.0 and sweep.jump == pytest.approx(1.0) and sweep.converged == pytest.approx(5 / 6)


def test_hysteresis_verdict_needs_a_loop_or_full_convergence():
    big, small = 10 * landscape.FIRST_ORDER_AREA, 0.1 * landscape.FIRST_ORDER_AREA
    assert landscape.agrees_on_hysteresis(big, 0.5, expect_first_order=True) is True
    assert landscape.agrees_on_hysteresis(big, 1.0, expect_first_order=False) is False
    assert landscape.agrees_on_hysteresis(small, 1.0, expect_first_order=False) is True
    assert landscape.agrees_on_hysteresis(small, 1.0, expect_first_order=True) is False
    assert landscape.agrees_on_hysteresis(small, 0.99, expect_first_order=False) is None


def test_scenario_hysteresis_takes_the_worst_sweep_of_the_scenario():
    loop = landscape.Sweep(hand_landscape([0, 1], [1.0, 0.0]), hand_landscape([1, 0], [1.0, 1.0]))
    flat = landscape.Sweep(hand_landscape([0, 1], [0.5, 0.5], converged=[True, False]),
                           hand_landscape([1, 0], [0.5, 0.5]))
    sweeps = {("shallow", "FULL", "low"): loop, ("shallow", "FULL", "high"): flat, ("under", "ITR", "low"): flat}
    assert landscape.scenario_hysteresis(sweeps, "shallow") == (pytest.approx(0.5), pytest.approx(1.0), 0.75)
    with pytest.raises(ValueError, match="no sweeps of scenario 'over'"):
        landscape.scenario_hysteresis(sweeps, "over")
    from adaptsym.claims import Ledger

    ledger = Ledger("8 landscape", "smoke")
    landscape.record_hysteresis(ledger, sweeps, ["shallow", "under"], "our")
    shallow, under = ledger.claims
    assert shallow.name == "Fig. 5 hysteresis, our shallow model" and shallow.measured == pytest.approx(0.5)
    assert "first-order jump" in shallow.paper and under.verdict == "inconclusive"  # flat, but BP failed once


def test_saturation_gap_is_the_relative_gap_to_the_bound_at_zero_field():
    d0 = 0.3
    forward = hand_landscape([-1, 0, 1], [0.5, d0, 0.1], s=[0.6, 0.5, 0.2])
    bound = -d0 * np.log(d0) - (1 - d0) * np.log(1 - d0)
    assert landscape.saturation_gap(forward) == pytest.approx((bound - 0.5) / bound)
    assert landscape.Sweep(forward, forward).at_zero() == (d0, 0.5, True)
    assert landscape.nearly_saturates(0.01, True) is True and landscape.nearly_saturates(0.2, True) is False
    assert landscape.nearly_saturates(0.01, False) is None


def test_most_constrained_region_and_its_verdict():
    assert landscape.most_constrained({"LB": 0.3, "ITR": 0.6, "RB": 0.2}) == "RB"
    at_zero = {r: hand_landscape([0.0], [0.4], s=[v]) for r, v in (("LB", 0.3), ("ITR", 0.6), ("RB", 0.4))}
    assert landscape.is_most_constrained(at_zero, "LB") is True
    assert landscape.is_most_constrained(at_zero, "RB") is False
    at_zero["RB"] = hand_landscape([0.0], [0.4], converged=[False], s=[0.1])
    assert landscape.is_most_constrained(at_zero, "LB") is None
    assert landscape.entropies_agree(0.02, 0.004) is True and landscape.entropies_agree(0.05, 0.004) is False
    assert landscape.further_from_bound([0.1, 0.2], [True, True]) is True
    assert landscape.further_from_bound([0.2, 0.1], [True, True]) is False
    assert landscape.further_from_bound([0.1, 0.2], [True, False]) is None


def test_tap_peaks_and_their_verdict():
    states = landscape.TapStates(np.zeros((5, 2)), np.array([-1.0, -1.00001, -0.5, 9.0, -0.50002]),
                                 np.array([True, True, True, False, True]), np.zeros(5))
    assert landscape.tap_peaks(states, resolution=1e-3) == 2
    assert landscape.tap_peaks(states, resolution=1.0) == 1
    assert landscape.scenario_tap({("a", "LB"): states}, "a", 1e-3) == (2, 0.8)
    assert landscape.agrees_on_tap_peaks(2, 0.8, expect_several=True) is True
    assert landscape.agrees_on_tap_peaks(1, 0.8, expect_several=True) is False
    assert landscape.agrees_on_tap_peaks(1, 0.4, expect_several=False) is None


def test_retained_accuracy_and_the_dynamics_verdict():
    run = landscape.Dynamics(np.arange(4), np.zeros(4), np.ones(4), np.array([0.7, 0.6, 0.1, 0.1]))
    assert landscape.retained_accuracy(run, chance=0.1) == pytest.approx(0.0)
    trapped = landscape.Dynamics(np.arange(4), np.zeros(4), np.ones(4), np.array([0.7, 0.7, 0.6, 0.7]))
    assert landscape.retained_accuracy(trapped, chance=0.1) == pytest.approx((0.65 - 0.1) / 0.6)
    assert landscape.agrees_on_dynamics(0.9, expect_trapped=True) is True
    assert landscape.agrees_on_dynamics(0.0, expect_trapped=True) is False
    assert landscape.agrees_on_dynamics(0.0, expect_trapped=False) is True
    assert "share above chance retained 0.000" in landscape.dynamics_summary(run, 0.0)


def test_iso_gap_interpolates_the_free_curve_at_the_iso_distances():
    free = hand_landscape([0, 1, 2], [0.5, 0.3, 0.1], s=[0.6, 0.5, 0.3])
    iso = hand_landscape([0, 1, 2, 3], [0.4, 0.2, 0.05, 0.45], converged=[True, True, True, False],
                         s=[0.5, 0.4, 0.0, -9.0])
    assert landscape.iso_gap(free, iso) == pytest.approx(0.55 - 0.5)  # d = 0.05 lies outside the free range
    assert landscape.agrees_on_suppression(0.05, 1.0) is True
    assert landscape.agrees_on_suppression(0.0005, 1.0) is False
    assert landscape.agrees_on_suppression(0.05, 0.9) is None


def test_iso_energy_sweep_goes_both_ways_on_one_grid():
    J, h = random_tree(6, seed=17, magnitude=(0.2, 1.0))
    ref = ising.sample_exact(J, h, 1, seed=18)[0]
    found = landscape.iso_energy_sweep((J, h), ref, 1.0, 0.5, tol=1e-10)
    np.testing.assert_allclose(found.forward.x, [-1, -0.5, 0, 0.5, 1])
    np.testing.assert_allclose(found.backward.x, found.forward.x[::-1])
    assert found.area < 1e-6  # a tree: one fixed point, one curve
    np.testing.assert_allclose(found.forward.beta, found.backward.beta[::-1], atol=1e-7)


def test_block_model_places_regions_on_the_diagonal_and_whole_network_prefers_full():
    a = (np.array([[0.0, 0.5], [0.5, 0.0]]), np.array([1.0, 2.0]))
    b = (np.zeros((1, 1)), np.array([3.0]))
    J, h = landscape.block_model([a, b, a])
    assert J.shape == (5, 5) and J[0, 1] == 0.5 and J[3, 4] == 0.5 and J[1, 2] == 0 and J[0, 3] == 0
    np.testing.assert_array_equal(h, [1, 2, 3, 1, 2])
    models = {("deep", "LB"): a, ("deep", "ITR"): b, ("deep", "RB"): a, ("shallow", "FULL"): b}
    whole = landscape.whole_network_models(models, ["deep", "shallow"])
    np.testing.assert_array_equal(whole["deep"][1], h)
    assert whole["shallow"] is b


def test_energy_references_pick_the_candidates_at_the_energy_quantiles():
    J, h = np.zeros((2, 2)), np.array([1.0, 1.0])
    candidates = np.array([[1, 1], [1, -1], [-1, -1]])  # energies -2, 0, 2
    found = landscape.energy_references(candidates, J, h, {"low": 0.0, "medium": 0.5, "high": 1.0})
    np.testing.assert_array_equal(found["low"], [1, 1])
    np.testing.assert_array_equal(found["medium"], [1, -1])
    np.testing.assert_array_equal(found["high"], [-1, -1])


def test_accuracy_observer_scores_each_configuration_as_a_network():
    import torch

    x = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    y = torch.tensor([0, 1])
    observe = landscape.accuracy_observer((2, 2), x, y)
    identity, swapped = [1, -1, -1, 1], [-1, 1, 1, -1]  # W (out, in) flattened row by row
    np.testing.assert_allclose(observe(np.array([identity, swapped])), [1.0, 0.0])


def test_energy_minima_counts_the_interior_local_minima_of_the_energy():
    found = hand_landscape(np.arange(7), np.linspace(1, 0, 7))
    found = landscape.Landscape(found.x, found.d, found.s, found.q, found.free_energy, found.energy,
                                np.array([0.0, -1.0, 0.5, 0.2, -0.3, -0.1, 0.4]), found.converged, found.beta)
    assert landscape.energy_minima(found) == 2
    flat = landscape.Landscape(*[getattr(found, f) for f in ("x", "d", "s", "q", "free_energy", "energy")],
                               np.linspace(0, 1, 7), found.converged, found.beta)
    assert landscape.energy_minima(flat) == 0
    assert landscape.has_two_energy_minima(found) is True and landscape.has_two_energy_minima(flat) is False
    gap = landscape.Landscape(*[getattr(found, f) for f in ("x", "d", "s", "q", "free_energy", "energy",
                                                            "energy_uncoupled")], np.arange(7) != 3, found.beta)
    assert landscape.energy_minima(gap) == 2 and landscape.has_two_energy_minima(gap) is None
