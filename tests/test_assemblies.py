"""Assemblies over random initialisations (Li eq. 20): exact against autograd on reference modules (float64),
then the normalised mean under the three weight laws, its estimator, the depth fit and the bound's shapes."""

import math

import numpy as np
import pytest
import torch

from adaptsym import assemblies as asm
from adaptsym.hessian import output_gradient, output_hessian, weight_index
from adaptsym.models import mlp_linears, relu_mlp

F64 = dict(dtype=torch.float64, device="cpu")
X = torch.tensor([1.0, 0.5, 2.0, 1.5], dtype=torch.float64)  # a positive input
DEPTHS = [2, 3, 4, 6, 8]
WIDTH = 16
NETWORKS = 4000


def reference_modules(weights):
    """One ``relu_mlp`` per network, holding that network's weights (``linear_l.weight = W^l[m].T``)."""
    widths = [weights[0].shape[1]] + [w.shape[2] for w in weights]
    models = []
    for m in range(len(weights[0])):
        model = relu_mlp(widths, **F64)
        with torch.no_grad():
            for linear, w in zip(mlp_linears(model), weights):
                linear.weight.copy_(w[m].T)
        models.append(model)
    return widths, models


@pytest.mark.parametrize("init_law", asm.INIT_LAWS)
@pytest.mark.parametrize("depth", [1, 2, 3, 4])
def test_assemblies_equal_autograd_on_the_same_networks(init_law, depth):
    """k = 0: T(x); k = 1: dT/dw^1_00; k = 2: d2T/dw^1_00 dw^{L-1}_00, each network separately by autograd."""
    d_in, width, n = 3, 5, 24
    x = torch.tensor([0.7, -0.4, 1.3], dtype=torch.float64)
    weights = asm.network_weights(depth, width, d_in, n, init_law, shift=1.5, mu=0.3, seed=3, **F64)
    widths, models = reference_modules(weights)
    first = weight_index(widths, 1, 0, 0)
    expected = {0: torch.stack([model(x[None])[0, 0] for model in models])}
    if depth >= 2:
        expected[1] = torch.stack([output_gradient(model, x)[first] for model in models])
    if depth >= 3:
        other = weight_index(widths, depth - 1, 0, 0)
        expected[2] = torch.stack([output_hessian(model, x)[first, other] for model in models])
        assert (expected[2] != 0).sum() >= 3  # the comparison is not between zeros only
    for order, reference in expected.items():
        got = asm.assembly_samples(depth, width, x, order, n, init_law, shift=1.5, mu=0.3, seed=3, **F64)
        torch.testing.assert_close(got, reference, rtol=1e-10, atol=1e-12)


def test_laws_shift_the_same_normals():
    """broken = symmetric + shift sigma at exactly broken_count(n, mu) weights per layer; shifted: at all weights."""
    depth, width, d_in, n, shift, mu = 4, 9, 3, 300, 0.8, 0.2
    laws = {law: asm.network_weights(depth, width, d_in, n, law, shift=shift, mu=mu, seed=1, **F64)
            for law in asm.INIT_LAWS}
    for layer, symmetric in enumerate(laws["symmetric"], start=1):
        sigma = math.sqrt((1 if layer == depth else 2) / symmetric.shape[1])  # He: 2/fan_in, readout 1/fan_in
        assert symmetric.mean().abs() < 4 * sigma / math.sqrt(symmetric.numel())
        assert symmetric.std().item() == pytest.approx(sigma, rel=0.05)
        torch.testing.assert_close(laws["shifted"][layer - 1] - symmetric, torch.full_like(symmetric, shift * sigma))
        moved = (laws["broken"][layer - 1] - symmetric).reshape(n, -1) / (shift * sigma)
        assert torch.all((moved.abs() < 1e-12) | ((moved - 1).abs() < 1e-12))
        assert torch.all(moved.round().sum(dim=1) == asm.broken_count(width, mu))  # round(3^0.8) = 2 per network
    places = (laws["broken"][1] != laws["symmetric"][1]).reshape(n, -1).float()
    assert places.sum(0).std() < 3 * places.sum(0).mean().sqrt()  # drawn anew per network, uniformly


def test_samples_do_not_depend_on_chunk_or_on_what_is_computed_beside_them():
    kwargs = dict(init_law="broken", mu=0.5, seed=5, **F64)
    alone = asm.assembly_samples(5, 8, X, 2, 300, chunk=64, **kwargs)
    torch.testing.assert_close(asm.assembly_samples(5, 8, X, 2, 300, chunk=1000, **kwargs), alone,
                               rtol=1e-12, atol=0)
    grid = asm.normalised_mean_grid([2, 5], [8], [0, 2], asm.INIT_LAWS, X, 300, mu=0.5, seed=5, progress=False, **F64)
    value, error, _ = asm.normalised_mean(alone)
    assert grid.value[1, 1, 1, 0] == pytest.approx(value, rel=1e-10)
    assert grid.standard_error[1, 1, 1, 0] == pytest.approx(error, rel=1e-10)
    assert np.isnan(grid.value[:, 1, 0]).all()  # k = 2 needs depth >= 3
    other_seed = asm.assembly_samples(5, 8, X, 2, 300, chunk=64, **{**kwargs, "seed": 6})
    assert not torch.allclose(other_seed, alone)


@pytest.fixture(scope="module")
def grid():
    return asm.normalised_mean_grid(DEPTHS, [WIDTH], asm.ORDERS, asm.INIT_LAWS, X, NETWORKS, shift=1.0, mu=0.5,
                                    seed=0, progress=False, **F64)


def cells(grid, law, order):
    """(depths, values, standard errors) of one law and order at WIDTH, where defined."""
    k = grid.orders.index(order)
    depths = [d for d in grid.depths if d >= asm.min_depth(order)]
    index = [grid.depths.index(d) for d in depths]
    return np.array(depths), grid.value[grid.init_laws.index(law), k, index, 0], \
        grid.standard_error[grid.init_laws.index(law), k, index, 0]


@pytest.mark.parametrize("order", asm.ORDERS)
def test_symmetric_law_has_zero_mean(grid, order):
    """Flipping the readout's sign preserves the symmetric law and maps every assembly A to -A: E[A] = 0."""
    _, values, errors = cells(grid, "symmetric", order)
    assert np.all(values < 3 * errors)
    assert np.all(values < 4 * grid.noise_floor)
    assert grid.noise_floor == pytest.approx(math.sqrt(2 / math.pi / NETWORKS))


def test_he_initialisation_keeps_the_output_scale(grid):
    """E[T(x)^2] = |x|^2 / d_in at every depth under He init, i.e. eq. 20's c = 1."""
    rms = grid.rms[grid.init_laws.index("symmetric"), grid.orders.index(0), :, 0]
    np.testing.assert_allclose(rms, X.norm().item() / math.sqrt(len(X)), rtol=0.1)
    assert asm.fit_depth_decay(DEPTHS, rms).rate == pytest.approx(1.0, abs=0.03)


@pytest.mark.parametrize("order", asm.ORDERS)
def test_shifted_law_has_a_large_mean_at_every_depth(grid, order):
    depths, values, errors = cells(grid, "shifted", order)
    assert np.all(values > 0.4) and np.all(values > 20 * errors)
    assert asm.fit_depth_decay(depths, values).rate > 0.97


def test_broken_law_lies_between_and_decays_slowly(grid):
    """A few broken weights per layer: T(x)'s normalised mean is clearly nonzero, far below the shifted law's, and
    decreases with depth.

    The decay is much slower than eq. 20's term c^L / sqrt(n)^{L mu} (a factor n^{-mu/2} = 1/2 per layer here):
    T = sum_k W^L_k a_k with nonnegative ReLU activations a_k, so the readout's few broken weights alone give
    E[T] = sum over them of shift sigma_L E[a_k]. At depth 2, where z^1 is Gaussian, E[a] / rms(a) = 1 / sqrt(pi)
    and the normalised mean is about shift m / sqrt(n) / sqrt(pi), m = broken_count(n, mu), with no product over
    layers; the slow decrease after that shrinks as the width grows (a finite-width effect).
    """
    depths, values, errors = cells(grid, "broken", 0)
    _, symmetric, _ = cells(grid, "symmetric", 0)
    _, shifted, shifted_errors = cells(grid, "shifted", 0)
    assert np.all(values > symmetric + 3 * errors)
    assert np.all(values < shifted - 3 * (errors + shifted_errors))
    assert asm.fit_depth_decay(depths, values).rate < 1
    assert asm.fit_depth_decay(depths, values).rate > WIDTH ** -0.25 + 0.2  # eq. 20's rate, 1/2 per layer
    m = asm.broken_count(WIDTH, 0.5)  # 2 of the readout's 16 weights
    assert values[0] == pytest.approx(m / math.sqrt(WIDTH) / math.sqrt(math.pi), rel=0.15)


def test_normalised_mean_of_known_samples():
    value, error, floor = asm.normalised_mean(np.array([1.0, -1.0, 3.0]))
    assert value == pytest.approx(1 / math.sqrt(11 / 3), rel=1e-14)
    assert floor == pytest.approx(math.sqrt(2 / (3 * math.pi)), rel=1e-14)
    assert error > 0


@pytest.mark.parametrize("mean", [0.0, 0.3])
def test_standard_error_and_noise_floor_match_repeated_estimates(mean):
    rng = np.random.default_rng(0)
    estimates = [asm.normalised_mean(rng.normal(mean, 1.0, size=400)) for _ in range(3000)]
    values = np.array([e.value for e in estimates])
    if mean == 0:  # |mean| / rms is |N(0, 1/M)|: its average is the noise floor
        assert values.mean() == pytest.approx(estimates[0].noise_floor, rel=0.05)
    else:  # the delta method's standard error is the spread of the estimates
        assert values.mean() == pytest.approx(mean / math.sqrt(1 + mean ** 2), rel=0.02)
        assert np.mean([e.standard_error for e in estimates]) == pytest.approx(values.std(), rel=0.06)


def test_fit_depth_decay_recovers_a_planted_power():
    depths = np.arange(2, 11)
    rate, prefactor = asm.fit_depth_decay(depths, 0.37 * 0.61 ** depths)
    assert rate == pytest.approx(0.61, rel=1e-12) and prefactor == pytest.approx(0.37, rel=1e-12)
    with pytest.raises(ValueError, match="positive"):
        asm.fit_depth_decay([2, 3], [0.1, 0.0])
    with pytest.raises(ValueError, match="2 distinct depths"):
        asm.fit_depth_decay([2, 2], [0.1, 0.2])


def test_bound_shapes_decay_at_eq20_rates():
    width, mu, c = 64, 0.5, 1.3
    shapes = asm.bound_shapes([30, 31], width, mu, c)
    assert shapes.symmetric[1] / shapes.symmetric[0] == pytest.approx(c / 2, rel=1e-9)  # (c^2/2)^L / c^L
    assert shapes.broken[1] / shapes.broken[0] == pytest.approx(width ** (-mu / 2), rel=1e-9)
    np.testing.assert_allclose(shapes.total, shapes.symmetric + shapes.broken, rtol=1e-14)
    first = asm.bound_shapes([1], 4, 1.0)  # c = 1: (1/2 + 1/2) / sqrt(1 + 1/4 + 1/4)
    assert first.total[0] == pytest.approx(1 / math.sqrt(1.5), rel=1e-14)


def test_bad_arguments_name_the_choices():
    with pytest.raises(ValueError, match="symmetric, broken, shifted"):
        asm.assembly_samples(3, 4, X, 0, 10, "uniform", **F64)
    with pytest.raises(ValueError, match=r"\(0, 1, 2\)"):
        asm.assembly_samples(3, 4, X, 3, 10, **F64)
    with pytest.raises(ValueError, match="depth >= 3"):
        asm.assembly_samples(2, 4, X, 2, 10, **F64)
    with pytest.raises(ValueError, match="positive"):
        asm.assembly_samples(0, 4, X, 0, 10, **F64)
    with pytest.raises(ValueError, match="mu > 0"):
        asm.assembly_samples(3, 4, X, 0, 10, "broken", mu=0.0, **F64)
    with pytest.raises(ValueError, match="shape"):
        asm.assembly_samples(3, 4, X[None], 0, 10, **F64)
    with pytest.raises(ValueError, match="symmetric, broken, shifted"):
        asm.normalised_mean_grid([2], [4], [0], ["symmetric", "skewed"], X, 10, progress=False, **F64)
