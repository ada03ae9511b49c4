"""The SK model (Li eq. 17): exact enumeration against brute-force sums, the Katzgraber-Palassini-Young identity on
the disorder average, parallel tempering against exact enumeration."""

import itertools

import numpy as np
import pytest
import scipy.linalg
import torch

from adaptsym import spinglass as sg


def test_couplings_are_symmetric_gaussian_of_variance_one_over_n_and_seeded():
    J = sg.sk_couplings(50, n_samples=40, seed=1, device="cpu")
    assert J.shape == (40, 50, 50) and J.dtype == torch.float64
    assert torch.equal(J, J.transpose(1, 2)) and torch.all(torch.diagonal(J, dim1=1, dim2=2) == 0)
    upper = J[:, *torch.triu_indices(50, 50, 1)]
    assert upper.var().item() * 50 == pytest.approx(1.0, rel=0.03)     # 49000 draws: relative error ~0.6%
    assert upper.mean().item() == pytest.approx(0.0, abs=4 * (1 / 50 / upper.numel()) ** 0.5)
    assert torch.equal(J, sg.sk_couplings(50, n_samples=40, seed=1, device="cpu"))
    assert not torch.equal(J, sg.sk_couplings(50, n_samples=40, seed=2, device="cpu"))
    with pytest.raises(ValueError, match="n >= 2"):
        sg.sk_couplings(1)


def test_walsh_hadamard_is_the_dense_hadamard_transform():
    x = torch.randn(3, 2 ** 6, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    dense = torch.as_tensor(scipy.linalg.hadamard(2 ** 6), dtype=torch.float64)    # entries (-1)^popcount(a & k)
    torch.testing.assert_close(sg.walsh_hadamard(x), x @ dense, rtol=0, atol=1e-12)


def test_overlap_distribution_is_the_law_of_the_hamming_distance_of_two_independent_draws():
    n = 7
    p = torch.distributions.Dirichlet(torch.ones(2 ** n, dtype=torch.float64)).sample((2,))   # any law, not Boltzmann
    states = sg.all_states(n)
    k = ((states @ states.T + n) / 2).round().long()                # q = -1 + 2k/n of every pair of states
    dense = torch.stack([torch.bincount(k.ravel(), (pi[:, None] * pi[None, :]).ravel(), minlength=n + 1)
                         for pi in p])                              # the (2^n x 2^n) joint law, binned
    torch.testing.assert_close(sg.overlap_distribution(p, n), dense, rtol=0, atol=1e-14)


def test_exact_sk_against_brute_force_sums_for_four_spins():
    n, temperatures = 4, [0.7, 1.9]
    J = sg.sk_couplings(n, n_samples=2, seed=2, device="cpu")
    exact = sg.exact_sk(J, temperatures)
    states = [torch.tensor(s, dtype=torch.float64) for s in itertools.product((-1.0, 1.0), repeat=n)]
    for s, t in itertools.product(range(2), range(2)):
        H = torch.stack([-sum(J[s, i, j] * x[i] * x[j] for i in range(n) for j in range(i + 1, n)) for x in states])
        w = torch.exp(-H / temperatures[t])
        p = w / w.sum()
        corr = sum(pi * torch.outer(x, x) for pi, x in zip(p, states))              # <s_i s_j>
        p_q = torch.zeros(n + 1, dtype=torch.float64)
        for (pa, a), (pb, b) in itertools.product(zip(p, states), repeat=2):
            p_q[int(round(((a @ b).item() + n) / 2))] += pa * pb
        q = torch.linspace(-1, 1, n + 1, dtype=torch.float64)
        assert exact["energy"][s, t].item() == pytest.approx((p @ H).item() / n, abs=1e-13)
        assert exact["q2"][s, t].item() == pytest.approx((corr ** 2).sum().item() / n ** 2, abs=1e-13)
        assert exact["m2"][s, t].item() == pytest.approx(corr.sum().item() / n ** 2, abs=1e-13)
        assert exact["q_abs"][s, t].item() == pytest.approx((p_q @ q.abs()).item(), abs=1e-13)
        torch.testing.assert_close(exact["p_q"][s, t], p_q, rtol=0, atol=1e-13)
        assert exact["p_q"][s, t].sum().item() == pytest.approx(1.0, abs=1e-13)
    torch.testing.assert_close(exact["q_support"], q)
    with pytest.raises(ValueError, match="n <= 16"):
        sg.exact_sk(sg.sk_couplings(17, device="cpu"), [1.0])
    with pytest.raises(ValueError, match="positive"):
        sg.exact_sk(J, [1.0, 0.0])


def test_katzgraber_identity_holds_on_the_disorder_average_not_sample_by_sample():
    # e = [<H>]/n = -(beta/2)(1 - [<q^2>]): Gaussian integration by parts, [J_ij f(J)] = [f'(J)]/n, exact at any n
    T = np.array([0.5, 1.0, 2.0])
    exact = sg.exact_sk(sg.sk_couplings(8, n_samples=2000, seed=3, device="cpu"), T)
    gap = exact["energy"] + (1 - exact["q2"]) / (2 * torch.as_tensor(T))          # per sample
    average, error = gap.mean(0), gap.std(0) / gap.shape[0] ** 0.5
    assert torch.all(average.abs() < 4 * error)
    assert torch.all((gap.abs() > 10 * error).any(0))                             # single samples violate it
    assert torch.all(error < 0.05 * exact["energy"].mean(0).abs())      # precise enough to see a wrong constant


def test_eq_17_read_literally_is_not_an_order_parameter_of_the_sk_model():
    # gauge symmetry s_i -> -s_i, J_ij -> -J_ij: [<s_i s_j>] = 0 for i != j, so [<m^2>] = 1/n at every T,
    # while the replica form [<q^2>] = (1/n^2) sum_ij [<s_i s_j>^2] grows far above 1/n in the glass phase
    n, T = 8, torch.tensor([0.3, 1.0, 3.0], dtype=torch.float64)
    exact = sg.exact_sk(sg.sk_couplings(n, n_samples=2000, seed=4, device="cpu"), T)
    m2, error = exact["m2"].mean(0), exact["m2"].std(0) / 2000 ** 0.5
    assert torch.all((m2 - 1 / n).abs() < 4 * error)
    q2 = exact["q2"].mean(0)
    assert q2[0] > 4 / n and torch.all(q2.diff() < 0)


def test_parallel_tempering_reproduces_exact_enumeration():
    n, T = 12, [0.5, 1.0, 2.0]
    J = sg.sk_couplings(n, n_samples=2, seed=5, device="cpu")
    exact = {k: v.numpy() for k, v in sg.exact_sk(J, T).items()}
    runs = [sg.parallel_tempering(J[s], T, sweeps=3000, seed=6, replicas=4, progress=False, device="cpu")
            for s in range(2)]                                   # one sample per run: blocked errors over time
    for s, run in enumerate(runs):
        found = sg.observables(run, blocks=32)
        assert np.all(np.abs(found.energy - exact["energy"][s]) < 4 * found.energy_se)
        assert np.all(np.abs(found.q2 - exact["q2"][s]) < 4 * found.q2_se)
        assert np.all(np.abs(found.q_abs - exact["q_abs"][s]) < 4 * found.q_abs_se)
        one_count = 1 / (run.overlap.shape[2] * (run.sweeps > run.total_sweeps // 2).sum())
        assert np.all(np.abs(found.p_q - exact["p_q"][s]) < 4 * found.p_q_se + one_count)
        np.testing.assert_allclose(found.p_q.sum(-1), 1, atol=1e-12)
        assert np.all(found.energy_se < 0.01) and np.all(found.q2_se < 0.02)       # the errors are small


def test_replica_exchange_is_reproducible_and_accepts_some_swaps():
    J = sg.sk_couplings(12, n_samples=2, seed=7, device="cpu")
    first, second, other = (sg.parallel_tempering(J, [0.4, 0.7, 1.0, 1.3], sweeps=50, seed=seed, progress=False,
                                                  device="cpu") for seed in (8, 8, 9))
    assert np.array_equal(first.energy, second.energy) and np.array_equal(first.overlap, second.overlap)
    assert np.array_equal(first.swap_rate, second.swap_rate)
    assert not np.array_equal(first.energy, other.energy)
    assert first.swap_rate.shape == (2, 3) and np.all((first.swap_rate > 0) & (first.swap_rate <= 1))


def test_recorded_energies_and_overlaps_are_those_of_the_final_configurations():
    J = sg.sk_couplings(10, seed=10, device="cpu")
    run = sg.parallel_tempering(J, [0.5, 1.0], sweeps=40, seed=11, replicas=3, burn_in=9, thin=3, progress=False,
                                device="cpu")
    np.testing.assert_array_equal(run.sweeps, np.arange(12, 41, 3))
    assert run.energy.shape == (1, 2, 3, 10) and run.overlap.shape == (1, 2, 3, 10)
    np.testing.assert_array_equal(run.pairs, [[0, 1], [0, 2], [1, 2]])
    levels = sg.energies(J[0], sg.all_states(10)) / 10                 # every recorded H/n is a level of the model
    assert np.abs(run.energy.ravel()[:, None] - levels.numpy()[None]).min(1).max() < 1e-12
    assert np.all(np.abs(run.overlap * 10 - np.rint(run.overlap * 10)) < 1e-12)
    with pytest.raises(ValueError, match="replicas >= 2"):
        sg.parallel_tempering(J, [1.0], sweeps=10, replicas=1)
    with pytest.raises(ValueError, match="burn_in < sweeps"):
        sg.parallel_tempering(J, [1.0], sweeps=10, burn_in=10)
    with pytest.raises(ValueError, match=r"\(samples, n, n\)"):
        sg.parallel_tempering(J[0, :, :5], [1.0], sweeps=10)


def test_order_parameter_falls_with_temperature_to_its_finite_size_floor():
    n, T = 64, [0.4, 0.7, 1.0, 1.5, 2.5]
    run = sg.parallel_tempering(sg.sk_couplings(n, n_samples=4, seed=12, device="cpu"), T, sweeps=800, seed=13,
                                progress=False, device="cpu")
    found = sg.observables(run)
    assert np.all(np.diff(found.q_ea) < 0)
    assert found.q_ea[0] > 0.5                                          # ordered well below T_c = 1
    # well above T_c the overlap is a sum of n weakly correlated signs: [<q^2>] = 1/(n (1 - beta^2)) ~ 1/n
    assert found.q_ea[-1] == pytest.approx(sg.paramagnetic_floor(n, 2.5), rel=0.2)
    assert found.q_ea[-1] < 1.5 / np.sqrt(n)


def test_equilibration_check_approaches_from_opposite_sides_and_agrees_once_equilibrated():
    # [<q^2>] is not self-averaging below T_c: the two sides differ by ~0.3 sample by sample, hence many samples
    run = sg.parallel_tempering(sg.sk_couplings(32, n_samples=48, seed=14, device="cpu"), [0.4, 0.7, 1.0],
                                sweeps=512, seed=15, progress=False, device="cpu")
    rows = sg.equilibration_check(run)
    assert sorted({r["sweeps"] for r in rows}) == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
    first = [r for r in rows if r["sweeps"] == 1]
    last = [r for r in rows if r["sweeps"] == 512]
    # from random (infinite-temperature) starts the energy lies above equilibrium and the overlap below it
    assert all(r["energy"] - r["energy_from_q"] > 4 * r["se"] for r in first)
    assert all(abs(r["energy"] - r["energy_from_q"]) < 4 * r["se"] for r in last)
    assert all(r["se"] < 0.1 * abs(r["energy"]) for r in last)                  # ...with the power to see a gap
    single = sg.equilibration_check(sg.parallel_tempering(sg.sk_couplings(8, seed=16, device="cpu"), [1.0],
                                                          sweeps=64, seed=17, progress=False, device="cpu"))
    assert [r["sweeps"] for r in single] == [16, 32, 64]                         # one sample: 8 blocks of records


def test_geometric_temperatures_are_denser_below_t_c():
    T = sg.geometric_temperatures(0.3, 2.0, 20)
    assert T[0] == pytest.approx(0.3) and T[-1] == pytest.approx(2.0) and np.all(np.diff(T) > 0)
    assert (T < 1).sum() > (T > 1).sum()
    with pytest.raises(ValueError, match="low < high"):
        sg.geometric_temperatures(2.0, 0.3)


def test_equilibrium_claim_needs_several_disorder_samples_and_flags_a_gap():
    found = sg.SpinGlassObservables(np.array([0.5, 2.0]), *[np.zeros(2)] * 2, np.array([0.6, 0.1]) ** 2,
                                    *[np.zeros(2)] * 3, np.linspace(-1, 1, 65), *[np.zeros((2, 65))] * 2)

    def verdict(gap, samples):
        rows = [{"sweeps": 512, "temperature": t, "energy": -0.5 + gap, "energy_from_q": -0.5, "se": 0.01,
                 "samples": samples} for t in (0.5, 2.0)]
        return sg.spin_glass_claims(found, rows, 64)[0]["agrees"]

    assert verdict(0.02, 8) is True and verdict(0.1, 8) is False      # 2 and 10 errors; the 1% bound is 4.8
    assert verdict(0.02, 3) is None                                      # too few samples to test the identity
