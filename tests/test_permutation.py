"""Hidden-node permutation symmetry (Zou & Huang §IV.5, Appendix J, Fig. 10)."""

import numpy as np
import pytest
import torch

from adaptsym import binary, landscape
from adaptsym.models import count_weights
from adaptsym.permutation import (
    copies_for,
    entropy_grows_with_ratio,
    entropy_profiles,
    generating_configurations,
    permutation_ensemble,
    permutation_models,
    permute_hidden_units,
    permute_units,
    polarity_check,
    random_permutations,
)

WIDTHS = (6, 5, 4, 3)  # W1 5x6, W2 4x5, W3 3x4: 30 + 20 + 12 = 62 weights


def random_configurations(m: int, widths=WIDTHS, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 2, (m, count_weights(widths)), generator=g).mul(2).sub(1).to(torch.int8)


def outputs(configurations: torch.Tensor, x: torch.Tensor, widths=WIDTHS) -> torch.Tensor:
    return binary.binary_forward(binary.unflatten_configurations(configurations, widths), x)


@pytest.fixture(scope="module")
def x():
    return torch.randn(9, WIDTHS[0], generator=torch.Generator().manual_seed(1), dtype=torch.float64)


def test_permute_units_moves_rows_of_one_matrix_and_columns_of_the_next():
    c = random_configurations(1)
    p1, p2 = torch.tensor([[4, 0, 3, 1, 2]]), torch.tensor([[2, 3, 1, 0]])
    w1, w2, w3 = (w[0] for w in binary.unflatten_configurations(c, WIDTHS))
    expected = binary.flatten_configurations([w1[p1[0]], w2[p2[0]][:, p1[0]], w3[:, p2[0]]])
    assert torch.equal(permute_units(c, WIDTHS, [p1, p2])[0], expected)


def test_every_permuted_configuration_computes_its_originals_function(x):
    c = random_configurations(40)
    paired = permute_hidden_units(c, WIDTHS, 1.0, seed=3)
    assert len(paired.weights) == 80 and torch.equal(paired.source, torch.arange(40).repeat(2))
    assert torch.equal(paired.weights[:40], c)
    copies = paired.weights[40:]
    assert (copies != c).any(1).float().mean() > 0.9  # the copies really are permuted
    # the same sums in another order: equal up to float rounding
    torch.testing.assert_close(outputs(paired.weights, x), outputs(c, x)[paired.source], rtol=0, atol=1e-12)


def test_ratio_zero_changes_nothing_and_the_ratio_is_the_share_of_paired_configurations():
    c = random_configurations(100)
    none = permute_hidden_units(c, WIDTHS, 0.0, seed=0)
    assert torch.equal(none.weights, c) and torch.equal(none.groups, torch.arange(100)) and none.ratio == 0
    for ratio in (0.3, 0.6, 0.9):  # App. J: M_p = rho / (2 - rho) M copies, rho = 2 M_p / (M + M_p)
        paired = permute_hidden_units(c, WIDTHS, ratio, seed=0)
        assert len(paired.weights) - 100 == copies_for(ratio, 100) == round(ratio / (2 - ratio) * 100)
        assert paired.ratio == pytest.approx(ratio, abs=0.01)
        assert len(set(paired.source[100:].tolist())) == len(paired.source) - 100  # each copied once


def test_groups_are_permuted_together_and_their_copies_are_new_groups(x):
    c = random_configurations(30)
    groups = torch.arange(10).repeat_interleave(3) + 7
    paired = permute_hidden_units(c, WIDTHS, 1.0, seed=5, groups=groups)
    assert torch.equal(paired.groups[:30], groups) and set(paired.groups[30:].tolist()).isdisjoint(groups.tolist())
    assert torch.equal(paired.groups[30:], paired.groups[30:].view(10, 3)[:, :1].expand(10, 3).flatten())
    # all draws of a group got the same permutation: repeat one configuration three times and look
    same = c[:1].repeat(30, 1)
    copies = permute_hidden_units(same, WIDTHS, 1.0, seed=5, groups=groups).weights[30:].view(10, 3, -1)
    assert (copies == copies[:, :1]).all() and not (copies[:, 0] == copies[0, 0]).all()


def test_generating_configuration_is_the_same_for_every_permutation_of_a_configuration(x):
    c = random_configurations(200)  # widths this small give many units with identical incoming weights: ties
    ranked = generating_configurations(c, WIDTHS, x)
    torch.testing.assert_close(outputs(ranked, x), outputs(c, x), rtol=0, atol=1e-12)
    means = [binary.binary_forward(binary.unflatten_configurations(ranked, WIDTHS)[:k + 1], x).mean(-2)
             for k in range(2)]
    assert all((m[:, :-1] >= m[:, 1:] - 1e-12).all() for m in means)  # descending in every hidden layer
    shuffled = permute_units(c, WIDTHS, random_permutations(200, WIDTHS, 2))
    assert torch.equal(generating_configurations(shuffled, WIDTHS, x), ranked)
    assert torch.equal(generating_configurations(ranked, WIDTHS, x), ranked)


def _ensemble(c, n_per_network):
    networks = torch.arange(len(c) // n_per_network).repeat_interleave(n_per_network)
    return binary.Configurations(WIDTHS, c, torch.linspace(0.5, 0.9, len(c)), networks)


def test_permutation_ensemble_ranks_then_pairs_whole_networks(x):
    configurations = _ensemble(random_configurations(40), 4)
    found = permutation_ensemble(configurations, x, 1.0, seed=0)
    kept = found.configurations
    assert found.ratio == 1.0 and len(kept.weights) == 80
    assert torch.equal(kept.weights[:40], generating_configurations(configurations.weights, WIDTHS, x))
    assert torch.equal(found.origin, configurations.network.repeat(2))
    assert torch.equal(kept.accuracy, configurations.accuracy.repeat(2)) and kept.network.unique().numel() == 20
    torch.testing.assert_close(outputs(kept.weights, x), outputs(configurations.weights, x).repeat(2, 1, 1),
                               rtol=0, atol=1e-12)


def test_models_per_ratio_and_their_entropy_profiles(x, tmp_path, monkeypatch):
    monkeypatch.setenv("ADAPTSYM_CACHE", str(tmp_path))
    configurations = _ensemble(random_configurations(60), 2)
    models = permutation_models(configurations, x, [0.0, 1.0], "RB", seed=0, n_samples=100, l1=0.0, max_iter=200)
    assert list(models) == [0.0, 1.0] and all(J.shape == (12, 12) and h.shape == (12,) for J, h in models.values())
    assert not np.allclose(models[0.0][1], models[1.0][1])
    refs, xs = configurations.weights[:2, 50:].numpy(), np.linspace(-1, 1, 5)
    profiles = entropy_profiles(models, refs, xs)
    assert sorted(profiles) == [(0.0, 0), (0.0, 1), (1.0, 0), (1.0, 1)]
    direct = landscape.entropy_landscape(*models[1.0], refs[1], xs)
    np.testing.assert_array_equal(profiles[1.0, 1].s, direct.s)
    np.testing.assert_array_equal(profiles[1.0, 1].d, direct.d)


def test_entropy_grows_with_ratio_asks_for_a_strict_increase_at_every_reference():
    def found(s_at_zero):
        x = np.array([-1.0, 0.0, 1.0])
        s = np.array([0.1, s_at_zero, 0.2])
        return landscape.Landscape(x, s, s, s, s, s, s, np.ones(3, dtype=bool), np.ones(3))

    growing = {(0.0, 0): found(0.50), (0.5, 0): found(0.52), (1.0, 0): found(0.55), (0.0, 1): found(0.4),
               (1.0, 1): found(0.41)}
    assert entropy_grows_with_ratio(growing) is True
    assert entropy_grows_with_ratio({**growing, (0.5, 0): found(0.56)}) is False
    assert entropy_grows_with_ratio({**growing, (1.0, 1): found(0.4)}) is False


def test_polarity_check_finds_two_polarities_and_counts_a_network_and_its_copy_once():
    rng = np.random.default_rng(0)
    n_networks, pattern = 60, rng.choice([-1, 1], 30)
    signs = np.repeat(rng.choice([-1, 1], n_networks), 2)  # two draws per network
    flips = rng.random((2 * n_networks, 30)) < 0.15
    lb = np.where(flips, -1, 1) * signs[:, None] * pattern
    weights = torch.from_numpy(np.concatenate([lb, rng.choice([-1, 1], (2 * n_networks, 32))], 1).astype(np.int8))
    two = _ensemble(weights, 2)
    check = polarity_check(two, "LB", two.network.numpy(), n_bootstrap=200, seed=0)
    assert check.bimodal and check.eigenvalue > check.noise_edge
    assert check.noise_edge == pytest.approx((1 + np.sqrt(30 / n_networks)) ** 2)
    merged = polarity_check(two, "LB", two.network.numpy() // 2, n_bootstrap=1, seed=0)
    assert merged.noise_edge == pytest.approx((1 + np.sqrt(30 / 30)) ** 2)  # one projection per group
    assert merged.eigenvalue == check.eigenvalue
    unstructured = polarity_check(two, "ITR", two.network.numpy(), n_bootstrap=200, seed=0)
    assert not unstructured.bimodal


def test_bad_arguments_are_rejected(x):
    c = random_configurations(4)
    with pytest.raises(ValueError, match=r"ratio must lie in \[0, 1\]; got 1.5"):
        permute_hidden_units(c, WIDTHS, 1.5, seed=0)
    with pytest.raises(ValueError, match=r"must be \(M, 62\); got shape \(4, 61\)"):
        permute_hidden_units(c[:, 1:], WIDTHS, 0.5, seed=0)
    with pytest.raises(ValueError, match="one group label per configuration"):
        permute_hidden_units(c, WIDTHS, 0.5, seed=0, groups=torch.zeros(3))
    with pytest.raises(ValueError, match=r"need configurations .* \(0\)"):
        permute_hidden_units(c[:0], WIDTHS, 0.5, seed=0)
    with pytest.raises(ValueError, match="one permutation"):
        permute_units(c, WIDTHS, [torch.zeros(4, 5, dtype=torch.long)])
    with pytest.raises(ValueError, match="widths"):
        generating_configurations(c, (6,), x)
