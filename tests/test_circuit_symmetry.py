"""Chapter 4's measurements: gate states, sampled circuits, and verdicts on planted weight laws."""

import numpy as np
import pytest
import torch

from adaptsym import circuit_symmetry as cs
from adaptsym.circuits import enumerate_circuits
from adaptsym.models import relu_mlp, vgg_cnn
from adaptsym.symmetry import symmetry_stats


def test_gate_states_are_the_relu_gates_of_every_hidden_layer():
    model = relu_mlp([5, 7, 6, 1], seed=0, dtype=torch.float64, device="cpu")
    x = torch.randn(30, 5, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    gates = cs.gate_states(model, x)
    with torch.no_grad():
        first = model[0](x)
        second = model[2](torch.relu(first))
    assert [g.shape for g in gates] == [(30, 7), (30, 6)]
    assert torch.equal(gates[0], (first > 0).to(torch.int8)) and torch.equal(gates[1], (second > 0).to(torch.int8))


def test_gate_states_of_a_cnn_subsample_wide_layers_reproducibly():
    model = vgg_cnn(1, [4, 4], 8, seed=0, device="cpu")
    x = torch.rand(10, 1, 8, 8, generator=torch.Generator().manual_seed(1))
    gates = cs.gate_states(model, x, max_units=100, seed=3)
    assert [g.shape for g in gates] == [(10, 100), (10, 64)]  # 4 x 8 x 8 = 256 units kept 100; 4 x 4 x 4 = 64
    assert torch.equal(gates[0], cs.gate_states(model, x, max_units=100, seed=3)[0])


def test_sampled_circuits_open_share_matches_enumeration():
    model = relu_mlp([4, 6, 5, 1], seed=2, dtype=torch.float64, device="cpu")
    x = torch.tensor([[0.5, -1.0, 2.0, 0.3]], dtype=torch.float64)
    sampled = cs.sample_circuit_symmetry(model, x, 20000, seeds=[0], orders=(0,), n_boot=5)
    exact = (enumerate_circuits(model, x[0]) != 0).double().mean().item()
    share = sampled.open_fraction[0][0]
    assert abs(share - exact) < 4 * np.sqrt(exact * (1 - exact) / 20000)
    assert np.all(sampled.values[0][0] != 0)


def planted_table(final_shift, change_shift, n=20000):
    """A two-layer table: symmetric initial weights, the change drawn with a planted skew."""
    rng = np.random.default_rng(0)
    rows = []
    for layer in (1, 2):
        w0 = rng.standard_normal(n)
        change = rng.standard_normal(n) * 0.1 + change_shift * rng.exponential(size=n)
        wt = w0 + change + final_shift
        stats = dict(n_boot=30, seed=layer)
        rows += [{"layer": layer, "epoch": 0, "w": symmetry_stats(w0, **stats), "change": None, "sign_changed": 0.0},
                 {"layer": layer, "epoch": 9, "w": symmetry_stats(wt, **stats),
                  "change": symmetry_stats(wt - w0, **stats), "sign_changed": float(np.mean(np.sign(w0) != np.sign(wt)))}]
    return rows


def verdicts(claims):
    return [c["agrees"] for c in claims]


def test_weight_claims_see_a_slight_skew_as_li_describes_it():
    assert verdicts(cs.weight_symmetry_claims(planted_table(final_shift=0.0, change_shift=0.01))) == [
        True, True, True, True]


def test_weight_claims_fail_when_training_moves_nothing_or_everything():
    still = verdicts(cs.weight_symmetry_claims(planted_table(final_shift=0.0, change_shift=0.0)))
    assert still[0] is False  # no detectable skew
    moved = verdicts(cs.weight_symmetry_claims(planted_table(final_shift=3.0, change_shift=0.0)))
    assert moved[1:] == [False, False, False]  # far from symmetric, and most signs changed


def test_assembly_input_moves_the_largest_coordinate_first_and_permutes_the_rest():
    x = torch.tensor([[0.0, 0.2], [0.9, 0.1]])
    moved = cs.assembly_input(x)
    assert moved[0] == 0.9 and sorted(moved.tolist()) == sorted(x.flatten().tolist())


@pytest.mark.parametrize("law_values, expected", [
    ({"symmetric": 0.01}, True),
    ({"symmetric": 0.5}, False),
])
def test_assembly_claim_for_the_symmetric_law_compares_with_the_noise_floor(law_values, expected):
    from adaptsym.assemblies import AssemblyGrid

    value = np.full((1, 1, 3, 1), law_values["symmetric"])
    grid = AssemblyGrid(("symmetric",), (0,), (2, 3, 4), (16,), value, np.full_like(value, 0.01), np.ones_like(value),
                        noise_floor=0.018)
    assert verdicts(cs.assembly_claims(grid, mu=0.5)) == [expected]
