"""The Hessian toolkit against exact computation in float64: hand-written forward passes differentiated by
torch.autograd, dense per-example Hessians, explicit resampling, scipy's moments and exact quadrature identities."""

import copy

import numpy as np
import pytest
import torch
from scipy import stats
from torch import nn

from adaptsym import hessian
from adaptsym.models import hinge_loss, margins, vgg_cnn

pytestmark = pytest.mark.usefixtures("one_thread")  # the networks are tiny (conftest)

RTOL = 1e-12


def close(actual, expected, rtol=RTOL):
    """|actual - expected| <= rtol * max|expected| everywhere."""
    return (actual - expected).abs().max().item() <= rtol * expected.abs().max().item()


def hand_written_output(theta, x, widths):
    """T(x) of a bias-free ReLU MLP written out from the flat weights (row-major (out, in) matrices, layer by layer),
    independent of nn.Module and functional_call."""
    a, offset = x, 0
    for layer, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:]), start=1):
        w = theta[offset: offset + fan_in * fan_out].reshape(fan_out, fan_in)
        offset += fan_in * fan_out
        a = a @ w.T if layer == len(widths) - 1 else torch.relu(a @ w.T)
    return a[..., 0]


def hand_written_risk(theta, x, y, widths):
    return torch.clamp(1 - y * hand_written_output(theta, x, widths), min=0).mean()


def per_example_hessians(model, x, y):
    """∂²ℓ_k/∂θ∂θ = -y_k ∇²T(x_k) on margin violators, else 0: shape (m, N, N)."""
    with torch.no_grad():
        active = margins(model, x, y) < 1
    return torch.stack([-y[k] * active[k] * hessian.output_hessian(model, x[k]) for k in range(len(x))])


@pytest.fixture
def small_cnn():
    model = vgg_cnn(2, [3, 2], 8, seed=3, dtype=torch.float64, device="cpu")
    x = torch.randn(9, 2, 8, 8, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    return model, x, torch.tensor([1.0, -1, 1, 1, -1, -1, 1, -1, 1], dtype=torch.float64)


# --- flattened weights and output derivatives ------------------------------------------------------------------

def test_weight_index_points_at_weight_j_i_of_the_layer(make_mlp):
    widths = [3, 4, 2, 1]
    model = make_mlp(widths)
    flat = hessian.flat_weights(model)
    for (layer, i, j), index in hessian.weights_in_order(widths):
        assert flat[index] == model[2 * (layer - 1)].weight[j, i]
        assert hessian.weight_layers(model)[index] == layer
    assert [index for _, index in hessian.weights_in_order(widths)] == list(range(len(flat)))


def test_output_gradient_and_hessian_match_a_hand_written_forward_pass(make_mlp):
    widths = [3, 4, 5, 1]
    model, theta = make_mlp(widths, seed=1), None
    theta = hessian.flat_weights(model)
    for x in torch.randn(3, 3, generator=torch.Generator().manual_seed(2), dtype=torch.float64):
        output = lambda t: hand_written_output(t, x, widths)  # noqa: E731
        assert close(hessian.output_gradient(model, x), torch.autograd.functional.jacobian(output, theta))
        reference = torch.autograd.functional.hessian(output, theta)
        assert reference.abs().max() > 0
        assert close(hessian.output_hessian(model, x), reference)


# --- derivatives of the training risk ---------------------------------------------------------------------------

@pytest.mark.parametrize("batch_size", [None, 1, 7, 100])
def test_risk_gradient_and_hvp_are_exact_against_the_hand_written_risk(make_mlp, teacher_data, batch_size):
    widths = [4, 6, 5, 1]
    model = make_mlp(widths, seed=2)
    x, y = teacher_data((4,), 30, seed=1)
    theta = hessian.flat_weights(model)
    risk = lambda t: hand_written_risk(t, x, y, widths)  # noqa: E731
    dense = torch.autograd.functional.hessian(risk, theta)
    assert close(hessian.risk_gradient(model, x, y, batch_size), torch.autograd.functional.jacobian(risk, theta))
    hvp = hessian.risk_hvp(model, x, y, batch_size)
    for v in torch.randn(3, len(theta), generator=torch.Generator().manual_seed(0), dtype=torch.float64):
        assert close(hvp(v), dense @ v)
    assert close(hessian.risk_hessian(model, x, y), dense)


def test_risk_hvp_is_exact_for_a_cnn_and_follows_the_dtype_of_v(small_cnn):
    model, x, y = small_cnn
    dense = hessian.risk_hessian(model, x, y)
    v = torch.randn(len(dense), generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    assert dense.abs().max() > 0 and close(hessian.risk_hvp(model, x, y, batch_size=4)(v), dense @ v)
    hvp32 = hessian.risk_hvp(model.float(), x.float(), y.float())(v)
    assert hvp32.dtype == torch.float64 and close(hvp32, dense @ v, rtol=1e-5)


def test_risk_derivatives_reject_bad_arguments(make_mlp, teacher_data):
    model = make_mlp([3, 4, 1])
    x, y = teacher_data((3,), 5)
    with pytest.raises(ValueError, match="batch_size"):
        hessian.risk_gradient(model, x, y, batch_size=0)
    with pytest.raises(ValueError, match="flat vector of the 16 weights"):
        hessian.risk_hvp(model, x, y)(torch.zeros(15, dtype=torch.float64))


# --- structure of the risk Hessian (Li §II.7) ---------------------------------------------------------------------

@pytest.mark.parametrize("case", ["random mlp", "trained mlp", "cnn"])
def test_risk_hessian_is_a_sum_over_violators_with_empty_within_layer_blocks(case, make_mlp, teacher_data,
                                                                               trained_mlp, small_cnn):
    if case == "random mlp":
        model, (x, y) = make_mlp([5, 4, 3, 1], seed=4), teacher_data((5,), 12, seed=3)
    else:
        model, x, y = trained_mlp if case == "trained mlp" else small_cnn
    check = hessian.hessian_structure_check(model, x, y)
    assert check["max_entry"] > 0 and check["violators"] > 0
    assert check["max_diagonal"] == check["trace"] == check["max_within_layer"] == 0
    assert check["max_violator_sum_error"] <= RTOL * check["max_entry"]


def test_structure_check_sees_within_layer_curvature_of_a_smooth_network(teacher_data):
    generator = torch.Generator().manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4, bias=False), nn.Softplus(), nn.Linear(4, 1, bias=False)).double()
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=generator, dtype=torch.float64))
    x, y = teacher_data((3,), 10)
    check = hessian.hessian_structure_check(model, x, y)
    assert check["max_diagonal"] > 1e-3 * check["max_entry"] and check["max_within_layer"] > 1e-3 * check["max_entry"]


def test_hessian_vanishes_once_every_margin_exceeds_one(trained_mlp):
    model, x, _ = trained_mlp
    model = copy.deepcopy(model)
    with torch.no_grad():
        y = torch.sign(model(x)[:, 0])  # the network's own labels: every margin |T(x)| > 0
        model[-1].weight.mul_(2 / model(x).abs().min())  # T is linear in the last layer: now every margin >= 2
        assert margins(model, x, y).min() > 1
    assert hinge_loss(model(x), y) == 0
    check = hessian.hessian_structure_check(model, x, y)
    assert check["max_entry"] == 0 and check["violators"] == 0
    hvp = hessian.risk_hvp(model, x, y)
    dim = len(hessian.flat_weights(model))
    assert hvp(torch.ones(dim, dtype=torch.float64)).abs().max() == 0
    nodes, weights = hessian.slq(hvp, dim, steps=10, probes=2, progress=False)
    assert torch.all(nodes == 0) and torch.equal(weights[:, 0], torch.ones(2, dtype=torch.float64))
    assert torch.all(weights[:, 1:] == 0)


# --- per-example Hessian entries ---------------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["mlp", "autodiff", "auto"])
def test_hessian_entries_equal_per_example_dense_hessians_for_all_pairs(make_mlp, teacher_data, method):
    model = make_mlp([3, 3, 2, 2, 1], seed=5)
    x, y = teacher_data((3,), 11, seed=2)
    dim = len(hessian.flat_weights(model))
    pairs = torch.cartesian_prod(torch.arange(dim), torch.arange(dim))  # within-layer and diagonal pairs included
    entries = hessian.hessian_entries(model, x, y, pairs, batch_size=4, method=method, progress=False)
    reference = per_example_hessians(model, x, y).reshape(len(x), -1)
    assert entries.shape == (len(x), dim * dim) and close(entries, reference)
    assert close(entries.mean(0).reshape(dim, dim), hessian.risk_hessian(model, x, y))


def test_hessian_entries_of_a_cnn_by_autodiff(small_cnn):
    model, x, y = small_cnn
    pairs = hessian.random_cross_layer_pairs(model, 40, seed=1)
    entries = hessian.hessian_entries(model, x, y, pairs, batch_size=5, progress=False)
    reference = per_example_hessians(model, x, y)[:, pairs[:, 0], pairs[:, 1]]
    assert reference.abs().max() > 0 and close(entries, reference)
    with pytest.raises(ValueError, match="bias-free ReLU MLP"):
        hessian.hessian_entries(model, x, y, pairs, method="mlp", progress=False)
    with pytest.raises(ValueError, match="valid methods: auto, mlp, autodiff"):
        hessian.hessian_entries(model, x, y, pairs, method="dense", progress=False)


def test_random_cross_layer_pairs_are_distinct_cross_layer_and_seeded(make_mlp):
    model = make_mlp([3, 2, 2, 1])  # layers of 6, 4 and 2 weights: 6*4 + 6*2 + 4*2 = 44 cross-layer pairs
    layers = hessian.weight_layers(model)
    pairs = hessian.random_cross_layer_pairs(model, 30, seed=7)
    assert pairs.shape == (30, 2) and torch.all(pairs[:, 0] < pairs[:, 1])
    assert torch.all(layers[pairs[:, 0]] != layers[pairs[:, 1]]) and len(set(map(tuple, pairs.tolist()))) == 30
    assert torch.equal(pairs, hessian.random_cross_layer_pairs(model, 30, seed=7))
    assert not torch.equal(pairs, hessian.random_cross_layer_pairs(model, 30, seed=8))
    assert len(set(map(tuple, hessian.random_cross_layer_pairs(model, 44).tolist()))) == 44
    with pytest.raises(ValueError, match="44 cross-layer"):
        hessian.random_cross_layer_pairs(model, 45)


# --- bootstrap and statistics of the entries ----------------------------------------------------------------------

def test_bootstrap_replicates_are_means_over_resamples():
    generator = torch.Generator().manual_seed(0)
    m, size = 50, 20
    entries = torch.randn(m, 3, generator=generator, dtype=torch.float64)
    frequencies = hessian.bootstrap_entries(torch.eye(m, dtype=torch.float64), 200, seed=4, resample_size=size)
    counts = frequencies * size  # replicates of the identity are the resampling frequencies of each example
    assert torch.allclose(counts, counts.round(), atol=1e-12) and torch.all(counts.round().sum(1) == size)
    replicates = hessian.bootstrap_entries(entries, 200, seed=4, resample_size=size)
    assert close(replicates, frequencies @ entries)
    assert torch.equal(replicates, hessian.bootstrap_entries(entries, 200, seed=4, resample_size=size))


def test_bootstrap_moments_follow_sampling_with_replacement():
    entries = torch.randn(40, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    for size in (40, 10):
        replicates = hessian.bootstrap_entries(entries, 40000, seed=2, resample_size=size)
        variance = entries.var(0, correction=0) / size  # variance of a mean of `size` draws with replacement
        assert torch.all((replicates.mean(0) - entries.mean(0)).abs() < 5 * (variance / 40000).sqrt())
        assert torch.allclose(replicates.var(0), variance, rtol=0.03)


def test_entry_statistics_agree_with_scipy():
    generator = torch.Generator().manual_seed(3)
    replicates = torch.randn(500, 4, generator=generator, dtype=torch.float64).exp()
    result = hessian.entry_statistics(replicates)
    r = replicates.numpy()
    np.testing.assert_allclose(result["mean"], r.mean(0), rtol=RTOL)
    np.testing.assert_allclose(result["std"], r.std(0, ddof=1), rtol=RTOL)
    np.testing.assert_allclose(result["skewness"], stats.skew(r), rtol=1e-10)
    np.testing.assert_allclose(result["excess_kurtosis"], stats.kurtosis(r), rtol=1e-10)
    np.testing.assert_allclose(result["correlation"], np.corrcoef(r.T), rtol=1e-10)


def test_coupling_set_size_counts_significant_correlations_and_moments():
    generator = torch.Generator().manual_seed(0)
    b = 4000
    z = torch.randn(b, 8, generator=generator, dtype=torch.float64)
    replicates = torch.stack([
        z[:, 0], z[:, 0] + 0.5 * z[:, 1],                  # entries 0 and 1 strongly coupled
        z[:, 2], z[:, 2] * 0.1 + z[:, 3],                  # entries 2 and 3 weakly coupled (ρ ≈ 0.1)
        z[:, 4] ** 2,                                      # entry 4 skewed and heavy-tailed
        z[:, 5], z[:, 6],                                  # independent Gaussians
        torch.full((b,), 0.3, dtype=torch.float64),        # a constant entry: its statistics are undefined
    ], dim=1)
    result = hessian.coupling_set_size(replicates, alpha=0.001)  # z of the weak coupling ≈ 6: p ≈ 1e-9
    assert result["coupling_set_size"].tolist() == [1, 1, 1, 1, 0, 0, 0, 0]
    assert result["correlation_fraction"] == pytest.approx(2 / 28)
    assert result["skewed"].tolist() == result["kurtotic"].tolist() == [False] * 4 + [True] + [False] * 3
    assert (result["n_entries"], result["n_replicates"], result["n_effective"]) == (8, b, b)
    # the weak coupling is invisible with 100 independent examples behind the replicates
    few = hessian.coupling_set_size(replicates, alpha=0.001, n_effective=100)
    assert few["coupling_set_size"].tolist() == [1, 1, 0, 0, 0, 0, 0, 0]
    with pytest.raises(ValueError, match="alpha"):
        hessian.coupling_set_size(replicates, alpha=1.5)


# --- stochastic Lanczos quadrature -------------------------------------------------------------------------------

def test_slq_recovers_the_spectrum_of_a_diagonal_operator():
    eigenvalues = torch.linspace(-2, 3, 12, dtype=torch.float64)
    nodes, weights = hessian.slq(lambda v: eigenvalues * v, 12, steps=12, probes=1, progress=False)
    assert torch.allclose(nodes[0], eigenvalues, atol=1e-12)
    assert torch.allclose(weights[0], torch.full((12,), 1 / 12, dtype=torch.float64), atol=1e-12)
    assert hessian.negative_mass(nodes, weights).item() == pytest.approx(5 / 12, abs=1e-12)  # 5 of 12 are < 0
    assert hessian.spectral_moment(nodes, weights, 1).item() == pytest.approx(eigenvalues.mean().item(), abs=1e-12)


def test_slq_gauss_quadrature_reproduces_the_probe_moments():
    generator = torch.Generator().manual_seed(0)
    a = torch.randn(60, 60, generator=generator, dtype=torch.float64)
    a = (a + a.T) / (2 * 60 ** 0.5)  # spectrum of width ~ 2
    probes = []

    def matvec(v):
        probes.append(v)
        return a @ v

    steps = 8
    nodes, weights = hessian.slq(matvec, 60, steps=steps, probes=1, seed=3, progress=False)
    q = probes[0]  # the normalised Rademacher probe
    assert torch.allclose(q.abs(), torch.full((60,), 60 ** -0.5, dtype=torch.float64), atol=1e-15)
    assert weights.sum().item() == pytest.approx(1, abs=1e-14)
    for j in range(2 * steps):
        exact = q @ torch.linalg.matrix_power(a, j) @ q
        assert abs(hessian.spectral_moment(nodes, weights, j) - exact) <= 1e-12 * max(1.0, exact.abs().item())


def test_slq_stops_early_on_a_low_rank_operator_without_nans():
    generator = torch.Generator().manual_seed(1)
    basis, _ = torch.linalg.qr(torch.randn(30, 3, generator=generator, dtype=torch.float64))
    a = basis @ torch.diag(torch.tensor([2.0, -1.0, 0.5], dtype=torch.float64)) @ basis.T
    nodes, weights = hessian.slq(lambda v: a @ v, 30, steps=12, probes=3, seed=5, progress=False)
    assert not nodes.isnan().any() and not weights.isnan().any()
    # the Krylov space of a rank-3 operator has dimension 4 (the probe also has a null-space component)
    assert torch.all(weights[:, 4:] == 0) and torch.all(nodes[:, 4:] == 0) and torch.all(weights[:, :4] > 0)
    assert torch.allclose(weights.sum(1), torch.ones(3, dtype=torch.float64), atol=1e-14)
    assert torch.allclose(nodes[:, :4].sort(1).values, torch.tensor([-1.0, 0.0, 0.5, 2.0], dtype=torch.float64)
                          .expand(3, 4), atol=1e-12)


def test_slq_of_the_zero_operator_is_a_unit_mass_at_zero():
    nodes, weights = hessian.slq(torch.zeros_like, 10, steps=5, probes=2, progress=False)
    assert torch.all(nodes == 0)
    assert torch.equal(weights, torch.tensor([[1.0, 0, 0, 0, 0]] * 2, dtype=torch.float64))


def test_slq_density_matches_the_exact_spectrum_of_a_trained_network(trained_mlp):
    model, x, y = trained_mlp
    hvp = hessian.risk_hvp(model, x, y)
    dim = len(hessian.flat_weights(model))  # 170 weights
    eigenvalues = torch.linalg.eigvalsh(hessian.risk_hessian(model, x, y))
    nodes, weights = hessian.slq(hvp, dim, steps=20, probes=10, seed=0, progress=False)
    assert torch.equal(nodes, hessian.slq(hvp, dim, steps=20, probes=10, seed=0, progress=False)[0])
    width = (eigenvalues.max() - eigenvalues.min()).item()
    grid = torch.linspace(eigenvalues.min().item() - width, eigenvalues.max().item() + width, 4001,
                          dtype=torch.float64)
    sigma = width / 50
    density = hessian.spectral_density(nodes, weights, grid, sigma)
    exact = hessian.spectral_density(eigenvalues[None], torch.full((1, dim), 1 / dim, dtype=torch.float64), grid,
                                     sigma)
    assert torch.trapezoid(density, grid).item() == pytest.approx(1, abs=1e-10)
    l1 = torch.trapezoid((density - exact).abs(), grid).item()
    assert l1 < 0.1, l1  # measured 0.065 (0.024 with sigma = width / 20): the probes' sampling noise


def test_slq_and_density_reject_bad_arguments():
    with pytest.raises(ValueError, match="positive"):
        hessian.slq(torch.zeros_like, 10, steps=0, probes=1, progress=False)
    with pytest.raises(ValueError, match="sigma"):
        hessian.spectral_density(torch.zeros(1, 1), torch.ones(1, 1), torch.zeros(3), 0.0)


def test_dense_hessian_is_torchs_without_its_internal_deprecation_warning(recwarn):
    import warnings

    warnings.simplefilter("always")
    theta = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    H = hessian.dense_hessian(lambda w: (w[0] * w[1]) ** 2 + w[2] ** 3, theta)
    expected = torch.tensor([[2 * 4.0, 4 * 1.0 * -2.0, 0], [4 * 1.0 * -2.0, 2 * 1.0, 0], [0, 0, 6 * 0.5]],
                            dtype=torch.float64)
    assert torch.allclose(H, expected, atol=1e-12)
    assert not [w for w in recwarn if "torch.jit.script" in str(w.message)]
