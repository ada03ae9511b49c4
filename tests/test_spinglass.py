"""The SK model: exact enumeration against brute force, parallel tempering against exact enumeration."""

import itertools

import numpy as np
import pytest
import torch

from adaptsym import spinglass as sg


def test_couplings_are_symmetric_gaussian_of_variance_one_over_n():
    J = sg.sk_couplings(50, n_samples=40, seed=1)
    assert torch.equal(J, J.transpose(1, 2)) and torch.all(torch.diagonal(J, dim1=1, dim2=2) == 0)
    upper = J[:, *torch.triu_indices(50, 50, 1)]
    assert upper.var().item() * 50 == pytest.approx(1.0, rel=0.03)
    with pytest.raises(ValueError, match="n >= 2"):
        sg.sk_couplings(1)


def test_exact_sk_against_brute_force_sums_for_four_spins():
    J = sg.sk_couplings(4, seed=2)[0]
    T = 0.7
    states = [torch.tensor(s, dtype=torch.float64) for s in itertools.product((-1.0, 1.0), repeat=4)]
    H = [-sum(J[i, j] * s[i] * s[j] for i in range(4) for j in range(i + 1, 4)) for s in states]
    w = torch.stack([torch.exp(-h / T) for h in H])
    p = w / w.sum()
    energy = sum(pi * h for pi, h in zip(p, H)) / 4
    p_q = torch.zeros(5, dtype=torch.float64)
    for (pa, a), (pb, b) in itertools.product(zip(p, states), repeat=2):
        p_q[int(round(((a @ b).item() + 4) / 2))] += pa * pb
    exact = sg.exact_sk(J, [T])
    assert exact["energy"][0, 0].item() == pytest.approx(energy.item(), abs=1e-13)
    torch.testing.assert_close(exact["p_q"][0, 0], p_q, rtol=0, atol=1e-13)
    assert exact["q2"][0, 0].item() == pytest.approx((p_q * torch.linspace(-1, 1, 5) ** 2).sum().item(), abs=1e-13)
    with pytest.raises(ValueError, match="n <= 16"):
        sg.all_states(17)


def test_katzgraber_identity_holds_on_the_disorder_average_not_sample_by_sample():
    T = np.array([0.5, 1.0, 2.0])
    exact = sg.exact_sk(sg.sk_couplings(8, n_samples=2000, seed=3), T)
    gap = exact["energy"] + (1 - exact["q2"]) / (2 * torch.as_tensor(T))     # e + (beta/2)(1 - q2), per sample
    average, error = gap.mean(0), gap.std(0) / gap.shape[0] ** 0.5
    assert torch.all(average.abs() < 4 * error)
    assert gap.abs().max() > 10 * error.max()  # individual samples violate it


@pytest.mark.parametrize("n", [6, 10])
def test_parallel_tempering_reproduces_exact_enumeration(n):
    J, T = sg.sk_couplings(n, seed=4), [0.5, 1.0, 2.0]
    exact = sg.exact_sk(J, T)
    found = sg.observables(sg.parallel_tempering(J, T, sweeps=6000, seed=5, progress=False))
    assert np.all(np.abs(found.energy - exact["energy"][0].numpy()) < 4 * found.energy_se)
    assert np.all(np.abs(found.q2 - exact["q2"][0].numpy()) < 4 * found.q2_se)
    total_variation = 0.5 * np.abs(found.p_q - exact["p_q"][0].numpy()).sum(-1)
    assert np.all(total_variation < 0.04)


def test_replica_exchange_is_reproducible_and_accepts_some_swaps():
    J = sg.sk_couplings(12, n_samples=2, seed=6)
    first = sg.parallel_tempering(J, [0.4, 0.7, 1.0], sweeps=50, seed=7, progress=False)
    second = sg.parallel_tempering(J, [0.4, 0.7, 1.0], sweeps=50, seed=7, progress=False)
    assert np.array_equal(first.energy, second.energy) and np.array_equal(first.overlap, second.overlap)
    assert np.all((first.swap_rate > 0) & (first.swap_rate <= 1))


def test_order_parameter_falls_with_temperature_to_its_finite_size_floor():
    n = 64
    run = sg.parallel_tempering(sg.sk_couplings(n, n_samples=3, seed=8), [0.4, 0.7, 1.0, 1.5, 2.5], sweeps=800,
                                seed=9, progress=False)
    q_ea = sg.observables(run).q_ea
    assert np.all(np.diff(q_ea) < 0)
    assert q_ea[0] > 0.5
    # well above T_c = 1 the overlap is the sum of n weakly correlated signs: q^2 ~ 1/(n (1 - beta^2))
    assert q_ea[-1] == pytest.approx(1 / np.sqrt(n * (1 - 1 / 2.5 ** 2)), rel=0.2)


def test_equilibration_check_agrees_at_the_longest_window():
    run = sg.parallel_tempering(sg.sk_couplings(32, n_samples=4, seed=10), [0.5, 1.0], sweeps=1024, seed=11,
                                progress=False)
    rows = sg.equilibration_check(run)
    last = [r for r in rows if r["sweeps"] == max(r["sweeps"] for r in rows)]
    assert all(abs(r["energy"] - r["energy_from_q"]) < 4 * r["se"] for r in last)
    assert {r["sweeps"] for r in rows} >= {256, 512, 1024}
