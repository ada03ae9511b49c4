"""Basis circuits and their perturbations against forward passes, explicit products and autograd (float64)."""

import itertools
import math

import pytest
import torch
from torch import nn

from adaptsym.circuits import (
    assemblies,
    circuit_risk,
    count_circuits,
    count_weights,
    depth_counts,
    enumerate_circuits,
    first_order_circuits,
    layer_widths,
    sample_circuits,
    second_order_circuits,
    unroll_conv,
)
from adaptsym.hessian import weights_in_order

TOL = dict(rtol=1e-12, atol=1e-12)
# Each net's outputs at its input are all non-zero (checked in test_path_sum_equals_output).
NETS = [([5, 1], 0), ([4, 6, 1], 1), ([3, 4, 5, 1], 2), ([3, 3, 4, 2, 1], 1), ([4, 5, 3], 4)]
NETS += [([2, 3, 4, 3, 2], 0)]


def mlp(widths, seed, dtype=torch.float64):
    """Bias-free ReLU MLP with N(0, 2/fan_in) weights, built here so the tests do not rely on models.py."""
    generator = torch.Generator().manual_seed(seed)
    layers = []
    for fan_in, fan_out in zip(widths[:-1], widths[1:]):
        linear = nn.Linear(fan_in, fan_out, bias=False, dtype=dtype)
        with torch.no_grad():
            weight = torch.randn(fan_out, fan_in, generator=generator, dtype=dtype)
            linear.weight.copy_(weight * (2 / fan_in) ** 0.5)
        layers += [linear, nn.ReLU()]
    return nn.Sequential(*layers[:-1])


def random_input(width, seed):
    return torch.randn(width, generator=torch.Generator().manual_seed(seed + 100), dtype=torch.float64)


def all_weights(widths):
    """Every weight (layer, i, j) in paper notation, with its index in the flattened parameter vector."""
    offset = 0
    for layer, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:]), start=1):
        for j, i in itertools.product(range(fan_out), range(fan_in)):
            yield (layer, i, j), offset + j * fan_in + i  # weight[j, i], row-major
        offset += fan_in * fan_out


def output_of_flat_parameters(model, x):
    """T(x) as a function of the flattened parameters (model.parameters() order, each row-major)."""
    names = [name for name, _ in model.named_parameters()]
    shapes = [p.shape for p in model.parameters()]

    def output(theta):
        pieces = theta.split([s.numel() for s in shapes])
        params = {name: piece.reshape(shape) for name, piece, shape in zip(names, pieces, shapes)}
        return torch.func.functional_call(model, params, (x,))

    return output, torch.cat([p.detach().reshape(-1) for p in model.parameters()])


def explicit_circuits(model, x):
    """Every circuit value by an explicit loop over paths in lexicographic order, shape (d_out, n_paths)."""
    weights = [m.weight.detach() for m in model[::2]]
    gates, activation = [], x
    for weight in weights[:-1]:
        preactivation = weight @ activation
        gates.append(preactivation > 0)
        activation = torch.relu(preactivation)
    widths = [weights[0].shape[1]] + [w.shape[0] for w in weights]
    rows = []
    for out in range(widths[-1]):
        row = []
        for path in itertools.product(*(range(w) for w in widths[:-1])):
            indices = list(path) + [out]
            value = x[indices[0]]
            for layer, weight in enumerate(weights):
                value = value * weight[indices[layer + 1], indices[layer]]
                if layer < len(gates):
                    value = value * gates[layer][indices[layer + 1]]
            row.append(value)
        rows.append(torch.stack(row))
    return torch.stack(rows)


@pytest.mark.parametrize("widths,seed", NETS)
def test_path_sum_equals_output(widths, seed):
    model, x = mlp(widths, seed), random_input(widths[0], seed)
    circuits = enumerate_circuits(model, x)
    assert torch.all(model(x) != 0)
    n_paths = count_circuits(widths[:-1])
    assert circuits.shape == ((n_paths,) if widths[-1] == 1 else (widths[-1], n_paths))
    torch.testing.assert_close(circuits.sum(-1).reshape(-1), model(x), **TOL)


@pytest.mark.parametrize("widths,seed", [([2, 3, 2, 1], 0), ([2, 2, 3, 2], 0), ([3, 2, 2, 2, 1], 3), ([3, 2], 0)])
def test_circuits_follow_lexicographic_path_order(widths, seed):
    model, x = mlp(widths, seed), random_input(widths[0], seed)
    circuits = enumerate_circuits(model, x).reshape(widths[-1], -1)
    torch.testing.assert_close(circuits, explicit_circuits(model, x), **TOL)


def test_depth_counts_are_the_enumerated_circuits_and_the_parameters_of_each_network():
    counts, weights = depth_counts(3, [1, 2, 3])
    for depth, count, n_weights in zip([1, 2, 3], counts, weights):
        model = mlp([3] * depth + [1], depth)
        assert count == enumerate_circuits(model, random_input(3, depth)).numel() == 3 ** depth
        assert n_weights == sum(p.numel() for p in model.parameters())


def test_counts_are_exact_products_and_sums():
    model, x = mlp([3, 4, 5, 2], 0), random_input(3, 0)
    assert count_circuits(layer_widths(model)) == enumerate_circuits(model, x).numel() == 3 * 4 * 5 * 2
    assert count_weights(layer_widths(model)) == sum(p.numel() for p in model.parameters()) == 12 + 20 + 10
    assert count_circuits([1000] * 7 + [1]) == 10**21


@pytest.mark.parametrize("widths,seed", NETS)
def test_first_order_circuits_sum_to_the_gradient(widths, seed):
    model, x = mlp(widths, seed), random_input(widths[0], seed)
    output, theta = output_of_flat_parameters(model, x)
    jacobian = torch.func.jacrev(output)(theta)  # (d_out, n_weights)
    for (layer, i, j), index in all_weights(widths):
        perturbation = first_order_circuits(model, x, layer, i, j)
        torch.testing.assert_close(perturbation.sum(-1).reshape(-1), jacobian[:, index], **TOL)


def test_first_order_circuits_are_the_circuits_through_the_weight_divided_by_it():
    widths, seed = [2, 3, 3, 2, 1], 7
    model, x = mlp(widths, seed), random_input(widths[0], seed)
    circuits = enumerate_circuits(model, x)
    paths = torch.tensor(list(itertools.product(*(range(w) for w in widths[:-1]))))
    for (layer, i, j), _ in all_weights(widths):
        through = (paths[:, layer - 1] == i) & (paths[:, layer] == j if layer < len(widths) - 1 else True)
        expected = circuits[through] / model[2 * (layer - 1)].weight[j, i].detach()
        torch.testing.assert_close(first_order_circuits(model, x, layer, i, j), expected, **TOL)


def test_first_order_circuits_of_a_last_layer_weight_vanish_on_other_outputs():
    model, x = mlp([3, 4, 3], 1), random_input(3, 1)
    perturbation = first_order_circuits(model, x, 2, 1, 2)
    assert perturbation.shape == (3, 3) and torch.all(perturbation[[0, 1]] == 0)


@pytest.mark.parametrize("widths,seed", [([3, 4, 1], 0), ([2, 3, 3, 1], 3), ([2, 3, 4, 3, 1], 3)])
def test_second_order_circuits_sum_to_the_hessian(widths, seed):
    model, x = mlp(widths, seed), random_input(widths[0], seed)
    output, theta = output_of_flat_parameters(model, x)
    hessian = torch.func.hessian(lambda t: output(t)[0])(theta)
    weights = list(all_weights(widths))
    assert hessian.abs().max() > 0
    for (a, index_a), (b, index_b) in itertools.product(weights, weights):
        perturbation = second_order_circuits(model, x, a, b)
        if a[0] == b[0]:
            assert perturbation.numel() == 0 and hessian[index_a, index_b] == 0
        else:
            torch.testing.assert_close(perturbation.sum(), hessian[index_a, index_b], **TOL)


def test_second_order_circuits_are_the_circuits_through_both_weights_divided_by_them():
    widths, seed = [2, 3, 2, 3, 1], 8
    model, x = mlp(widths, seed), random_input(widths[0], seed)
    circuits = enumerate_circuits(model, x)
    paths = torch.tensor(list(itertools.product(*(range(w) for w in widths[:-1]))))

    def through(layer, i, j):
        return (paths[:, layer - 1] == i) & (paths[:, layer] == j if layer < len(widths) - 1 else True)

    weights = [w for w, _ in all_weights(widths)]
    for a, b in itertools.combinations(weights, 2):
        if a[0] != b[0]:
            w_a, w_b = (model[2 * (w[0] - 1)].weight[w[2], w[1]].detach() for w in (a, b))
            expected = circuits[through(*a) & through(*b)] / (w_a * w_b)
            torch.testing.assert_close(second_order_circuits(model, x, a, b), expected, **TOL)


def test_dead_relu_layer_and_zero_input_give_zero_circuits():
    model = mlp([3, 4, 3, 1], 0)
    with torch.no_grad():
        model[0].weight.copy_(-model[0].weight.abs())
    x = torch.tensor([1.0, 2.0, 0.5], dtype=torch.float64)
    for inputs in (x, torch.zeros(3, dtype=torch.float64)):
        assert model(inputs).item() == 0
        assert torch.all(enumerate_circuits(model, inputs) == 0)
        assert torch.all(first_order_circuits(model, inputs, 2, 1, 2) == 0)


@pytest.mark.parametrize("widths,seed", NETS)
def test_assemblies_are_preactivations(widths, seed):
    model, x = mlp(widths, seed), random_input(widths[0], seed)
    activation = x
    for layer, linear in enumerate(model[::2], start=1):
        preactivation = linear(activation)
        torch.testing.assert_close(assemblies(model, x, layer), preactivation, **TOL)
        activation = torch.relu(preactivation)


@pytest.mark.parametrize("widths,output", [([4, 5, 6, 3, 1], None), ([3, 4, 5, 2], 1)])
def test_sample_circuits_is_unbiased_and_draws_circuits(widths, output):
    model, x = mlp(widths, 0), random_input(widths[0], 0)
    generator = torch.Generator().manual_seed(0)
    estimates = torch.stack([sample_circuits(model, x, 40, generator, output)[1] for _ in range(500)])
    standard_error = estimates.std() / len(estimates) ** 0.5
    assert standard_error > 0
    assert abs(estimates.mean() - model(x)[output or 0].item()) < 4 * standard_error
    values, _ = sample_circuits(model, x, 200, generator, output)
    circuits = enumerate_circuits(model, x).reshape(widths[-1], -1)[output or 0]
    assert values.shape == (200,)
    assert all(torch.isclose(circuits, value, rtol=1e-12, atol=0).any() for value in values)


@pytest.mark.parametrize("order", [1, 2])
def test_sampled_perturbations_are_uniform_draws_of_eq_16_and_19_terms(order):
    widths = [3, 4, 5, 1]
    model, x = mlp(widths, 2), random_input(widths[0], 2)
    weights = [w for w, _ in weights_in_order(widths)]
    if order == 1:
        terms = torch.cat([first_order_circuits(model, x, *w) for w in weights])
    else:
        terms = torch.cat([second_order_circuits(model, x, a, b) for a, b in itertools.combinations(weights, 2)
                           if a[0] != b[0]])
    assert len(terms) == count_circuits(widths[:-1]) * math.comb(len(widths) - 1, order)
    values, _ = sample_circuits(model, x, 300, 5, order=order)
    assert all(torch.isclose(terms, value, rtol=1e-12, atol=1e-300).any() for value in values)
    generator = torch.Generator().manual_seed(1)
    estimates = torch.stack([sample_circuits(model, x, 40, generator, order=order)[1] for _ in range(500)])
    assert abs(estimates.mean() - terms.sum()) < 4 * estimates.std() / len(estimates) ** 0.5


def test_sample_circuits_repeats_with_a_seed_and_picks_an_output():
    model, x = mlp([3, 4, 2], 0), random_input(3, 0)
    first, second = sample_circuits(model, x, 50, 3, output=1), sample_circuits(model, x, 50, 3, output=1)
    torch.testing.assert_close(first, second, rtol=0, atol=0)
    assert torch.all(torch.isin(first[0], enumerate_circuits(model, x)[1]))
    with pytest.raises(ValueError, match="output=0..1"):
        sample_circuits(model, x, 50, 3)
    with pytest.raises(ValueError, match="output"):
        sample_circuits(model, x, 50, 3, output=2)
    with pytest.raises(ValueError, match="positive"):
        sample_circuits(model, x, 0, 3)


def test_sample_circuits_on_a_network_with_more_than_1e20_paths():
    widths = [1000] * 7 + [1]
    model, x = mlp(widths, 0, dtype=torch.float32), random_input(1000, 0).float()
    assert count_circuits(widths[:-1]) > 10**20
    with pytest.raises(ValueError, match="sample_circuits"):
        enumerate_circuits(model, x)
    values, estimate = sample_circuits(model, x, 10_000, torch.Generator().manual_seed(0))
    assert values.shape == (10_000,) and torch.isfinite(values).all() and torch.isfinite(estimate)


def tiny_cnn(d_out, seed):
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(2, 3, 3, padding=1, bias=False),
        nn.ReLU(),
        nn.Conv2d(3, 2, 2, stride=2, padding=1, padding_mode="circular", bias=False),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(2 * 3 * 3, d_out, bias=False),
    ).double()


@pytest.mark.parametrize("d_out", [1, 2])
def test_unrolled_cnn_has_the_cnn_output_as_its_path_sum(d_out):
    cnn = tiny_cnn(d_out, d_out)
    image = torch.randn(2, 4, 4, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    mlp_form = unroll_conv(cnn, (2, 4, 4), device="cpu")
    assert layer_widths(mlp_form) == [32, 48, 18, d_out]
    torch.testing.assert_close(mlp_form(image.reshape(-1)), cnn(image[None])[0], **TOL)
    path_sum = enumerate_circuits(mlp_form, image.reshape(-1)).sum(-1).reshape(-1)
    torch.testing.assert_close(path_sum, cnn(image[None])[0], **TOL)


@pytest.mark.parametrize(
    "cnn,shape,message",
    [
        (nn.Sequential(nn.Conv2d(1, 1, 2, bias=False), nn.MaxPool2d(2), nn.Flatten()), (1, 5, 5), "MaxPool2d"),
        (nn.Sequential(nn.Conv2d(1, 1, 2), nn.Flatten()), (1, 4, 4), "Conv2d"),
        (nn.Sequential(nn.Linear(4, 1, bias=False)), (1, 4, 4), "Linear"),
        (nn.Sequential(nn.Conv2d(1, 1, 2, bias=False)), (1, 4, 4), "Flatten"),
        (nn.Sequential(nn.Conv2d(2, 1, 2, bias=False), nn.Flatten()), (1, 4, 4), "input channels"),
        (nn.Sequential(nn.Flatten(), nn.Linear(16, 1, bias=False)), (16,), "input_shape"),
    ],
)
def test_unroll_conv_rejects_what_it_cannot_unroll(cnn, shape, message):
    with pytest.raises(ValueError, match=message):
        unroll_conv(cnn, shape, device="cpu")


def test_circuit_risk_equals_the_hinge_loss_of_the_outputs():
    model = mlp([3, 4, 3, 1], 0)
    X = torch.randn(8, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    X = X * torch.logspace(-1, 1, 8, dtype=torch.float64)[:, None]
    Y = torch.tensor([1.0, -1.0] * 4, dtype=torch.float64)
    hinge = torch.clamp(1 - Y * model(X)[:, 0], min=0)
    assert (hinge == 0).any() and (hinge > 0).any()
    torch.testing.assert_close(circuit_risk(model, X, Y, progress=False), hinge.mean(), **TOL)
    with pytest.raises(ValueError, match="shape"):
        circuit_risk(model, X, Y[:3], progress=False)
    with pytest.raises(ValueError, match="single output"):
        circuit_risk(mlp([3, 2], 0), X, Y, progress=False)


@pytest.mark.parametrize(
    "model",
    [
        nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 1, bias=False)),
        nn.Sequential(nn.Linear(3, 2, bias=False), nn.Tanh(), nn.Linear(2, 1, bias=False)),
        nn.Sequential(nn.Linear(3, 2, bias=False), nn.ReLU()),
        nn.Sequential(nn.Linear(3, 2, bias=False), nn.Linear(2, 1, bias=False), nn.ReLU()),
        nn.Linear(3, 1, bias=False),
    ],
)
def test_models_other_than_bias_free_relu_mlps_are_rejected(model):
    with pytest.raises(ValueError, match="bias-free ReLU MLP"):
        enumerate_circuits(model, torch.zeros(3))


def test_bad_arguments_are_rejected():
    model, x = mlp([3, 4, 1], 0), random_input(3, 0)
    with pytest.raises(ValueError, match="max_paths=5: use sample_circuits"):
        enumerate_circuits(model, x, max_paths=5)
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        enumerate_circuits(model, torch.zeros(1, 3, dtype=torch.float64))
    for layer, i, j, name in [(0, 0, 0, "layer"), (3, 0, 0, "layer"), (1, 3, 0, "i"), (2, 0, 1, "j")]:
        with pytest.raises(ValueError, match=f"{name} must be in"):
            first_order_circuits(model, x, layer, i, j)
    with pytest.raises(ValueError, match="layer must be in 1..2"):
        assemblies(model, x, 3)
