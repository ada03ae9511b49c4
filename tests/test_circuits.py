"""Basis circuits and their perturbations against forward passes, explicit products and autograd (float64)."""

import copy
import itertools
import math

import numpy as np
import pytest
import torch
from torch import nn

from adaptsym.circuits import (
    CancellationScaling,
    CircuitIdentityErrors,
    InformationalPerturbations,
    PathSumEstimate,
    assemblies,
    cancellation,
    cancellation_difference,
    cancellation_scaling,
    circuit_assembly,
    circuit_identity_errors,
    circuit_identity_holds,
    circuit_risk,
    circuits_outnumber_weights,
    cnn_path_sum_error,
    count_circuits,
    count_weights,
    depth_counts,
    enumerate_circuits,
    estimate_path_sum,
    feedback_loop,
    enumerated_cancellation,
    first_order_circuits,
    hessian_check_pairs,
    hinge_derivative,
    informational_perturbations,
    layer_widths,
    margins,
    perturbation_sums,
    relative_path_sum_error,
    risk_both_ways,
    risk_gradient_by_circuits,
    risk_gradient_check,
    sample_circuits,
    second_order_circuits,
    signed_circuits,
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


def test_identity_and_count_verdicts():
    assert circuit_identity_holds(9e-13) and not circuit_identity_holds(1e-12)
    assert not circuit_identity_holds(1e-9, tol=1e-10) and circuit_identity_holds(1e-9, tol=1e-8)
    counts, weights = depth_counts(3, [1, 2, 3])
    assert circuits_outnumber_weights(counts, weights)  # 27 circuits, 21 weights at depth 3
    assert not circuits_outnumber_weights(*depth_counts(3, [1, 2]))  # 9 circuits, 12 weights


def test_circuit_assembly_holds_every_circuit_the_largest_path_the_gates_and_the_output():
    widths, seed = [3, 4, 3, 1], 2
    model, x = mlp(widths, seed), random_input(widths[0], seed)
    found = circuit_assembly(model, x, -1.0)
    explicit = explicit_circuits(model, x)[0]
    torch.testing.assert_close(found.values, explicit, **TOL)
    paths = list(itertools.product(*(range(w) for w in widths[:-1])))
    assert found.path == paths[int(explicit.abs().argmax())]
    assert found.largest == found.values[int(explicit.abs().argmax())].item()
    z1 = model[0](x)
    z2 = model[2](torch.relu(z1))
    assert [g.tolist() for g in found.gates] == [(z1 > 0).double().tolist(), (z2 > 0).double().tolist()]
    assert found.output == model(x).item()
    assert all(torch.equal(w, layer.weight) for w, layer in zip(found.weights, model[::2]))


def test_circuit_assembly_perturbs_the_largest_circuit_by_its_middle_weight_and_feeds_the_label_back():
    widths, seed = [3, 4, 3, 1], 2
    model, x = mlp(widths, seed), random_input(widths[0], seed)
    for label in (1.0, -1.0):
        found = circuit_assembly(model, x, label)
        i0, i1, i2 = found.path
        assert found.weight == (2, i1, i2)  # layer (L + 1) // 2 = 2 of L = 3, on the highlighted path
        weight = model[2].weight[i2, i1].item()
        assert found.perturbation == pytest.approx(found.largest / weight, rel=1e-12)  # Ψ with w differentiated out
        output, theta = output_of_flat_parameters(model, x)
        gradient = torch.func.grad(lambda t: output(t).sum())(theta)
        index = dict(all_weights(widths))[found.weight]
        assert found.gradient == pytest.approx(gradient[index].item(), rel=1e-12)
        assert found.n_perturbations == 3  # circuits through w^2_{i1 i2}: free index i_0 only
        margin = label * found.output
        assert found.label == label and found.loss_derivative == (-1.0 if margin < 1 else 0.0)
        assert found.risk_gradient == found.loss_derivative * label * found.gradient


def test_hinge_derivative_is_minus_one_below_the_margin_and_zero_above():
    margins_ = torch.tensor([-3.0, 0.0, 0.999, 1.0, 1.5], dtype=torch.float64)
    assert hinge_derivative(margins_).tolist() == [-1.0, -1.0, -1.0, 0.0, 0.0]
    assert hinge_derivative(margins_).dtype == torch.float64


def test_perturbation_sums_are_first_and_second_order_circuit_sums():
    model, x = mlp([3, 4, 3, 1], 1), random_input(3, 1)
    sets = [[(1, 0, 2)], [(3, 1, 0)], [(1, 0, 2), (2, 2, 1)], [(1, 0, 2), (1, 1, 1)]]
    expected = [first_order_circuits(model, x, *sets[0][0]).sum(), first_order_circuits(model, x, *sets[1][0]).sum(),
                second_order_circuits(model, x, *sets[2]).sum(), torch.tensor(0.0, dtype=torch.float64)]
    torch.testing.assert_close(perturbation_sums(model, x, sets), torch.stack(expected), **TOL)


def test_risk_gradient_by_circuits_is_autograd_of_the_hinge_risk_and_skips_satisfied_examples():
    widths = [3, 4, 3, 1]
    model = mlp(widths, 0)
    X = torch.randn(10, 3, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    Y = torch.sign(model(X)[:, 0].detach()) * torch.tensor([1.0, -1.0] * 5, dtype=torch.float64)
    X = X * 3  # margins spread on both sides of 1
    m = margins(model, X, Y)
    assert 0 < int((m < 1).sum()) < 10
    theta = torch.cat([p.detach().reshape(-1) for p in model.parameters()])

    def risk(t):
        output, _ = output_of_flat_parameters(model, X)
        return torch.clamp(1 - Y * output(t)[:, 0], min=0).mean()

    torch.testing.assert_close(risk_gradient_by_circuits(model, X, Y), torch.func.grad(risk)(theta), **TOL)
    satisfied = m >= 1
    assert risk_gradient_by_circuits(model, X[satisfied], Y[satisfied]).abs().max() == 0
    found = risk_gradient_check(model, X, Y)
    assert found.error < 1e-15 and found.n_examples == 10 and found.n_violations == int((m < 1).sum())
    assert found.scale == torch.func.grad(risk)(theta).abs().max().item()


def test_informational_perturbations_count_the_margin_violations_of_every_snapshot():
    model = mlp([3, 4, 3, 1], 0)
    X = torch.randn(40, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    Y = torch.where(model(X)[:, 0] >= 0, 1.0, -1.0).double()  # every example on the right side (or at T = 0):
    # scaling up the output helps
    found = informational_perturbations(ScaledRun(model), [0, 1, 2], X, Y)
    base = (Y * model(X)[:, 0]).detach()
    for epoch, risk, fraction, found_margins in zip(found.epochs, found.risk, found.fraction, found.margins):
        margin = (1 + epoch) * base
        assert fraction == (margin < 1).double().mean().item()
        assert risk == pytest.approx(torch.clamp(1 - margin, min=0).mean().item(), rel=1e-12)
        np.testing.assert_allclose(found_margins, margin.numpy(), rtol=1e-12)
    assert found.fraction[0] > found.fraction[2] and found.falls_with_risk()
    assert not InformationalPerturbations([0, 1, 2], [1.0, 0.5, 0.2], [0.5, 0.6, 0.2], []).falls_with_risk()
    assert not InformationalPerturbations([0, 1], [1.0, 1.2], [0.5, 0.4], []).falls_with_risk()  # risk rose
    assert not InformationalPerturbations([0, 1], [1.0, 0.5], [0.5, 0.5], []).falls_with_risk()  # fraction flat
    assert InformationalPerturbations([0, 1, 2], [1.0, 0.5, 0.2], [0.5, 0.5, 0.2], []).falls_with_risk()


@pytest.mark.parametrize("widths,seed", [n for n in NETS if n[0][-1] == 1])
def test_factorised_cancellation_sums_equal_the_enumerated_ones(widths, seed):
    model = mlp(widths, seed)
    X = torch.stack([random_input(widths[0], s) for s in range(4)])
    X[1, 0] = 0.0  # a zero input: its circuits vanish but stay counted as open (their gates are open)
    fast, slow = cancellation(model, X), enumerated_cancellation(model, X)
    explicit = [explicit_circuits(model, x)[0] for x in X]
    np.testing.assert_allclose(fast.output, [e.sum().item() for e in explicit], rtol=1e-12)
    np.testing.assert_allclose(fast.absolute_sum, [e.abs().sum().item() for e in explicit], rtol=1e-12)
    np.testing.assert_allclose(fast.square_sum, [(e ** 2).sum().item() for e in explicit], rtol=1e-12)
    np.testing.assert_allclose(slow.square_sum, fast.square_sum, rtol=1e-12)
    gates = [np.prod([g.sum().item() for g in circuit_assembly(model, x, 1.0).gates]) for x in X]
    assert fast.n_open.tolist() == [widths[0] * g for g in gates]
    assert slow.n_open[0] == fast.n_open[0] and slow.n_open[1] <= fast.n_open[1]
    is_open = fast.n_open > 0  # where every circuit is closed the ratios are undefined (nan)
    assert np.all(fast.effective_count[is_open] <= fast.n_open[is_open] * (1 + 1e-12))
    np.testing.assert_allclose(fast.ratio[is_open], fast.absolute_sum[is_open] / np.abs(fast.output[is_open]), rtol=1e-15)
    np.testing.assert_allclose(fast.normalised_output[is_open] ** 2,
                               fast.output[is_open] ** 2 / fast.square_sum[is_open], rtol=1e-12)


def test_cancellation_difference_is_rounding_small_and_catches_a_wrong_sum(monkeypatch):
    import adaptsym.circuits as circuits

    model = mlp([3, 4, 3, 1], 0)
    X = torch.stack([random_input(3, s) for s in range(3)])
    assert cancellation_difference(model, X) < 1e-14
    right = circuits.cancellation
    monkeypatch.setattr(circuits, "cancellation", lambda m, x: circuits.Cancellation(
        right(m, x).output, right(m, x).absolute_sum * 1.01, right(m, x).square_sum, right(m, x).n_open))
    assert cancellation_difference(model, X) > 1e-3


def test_cancellation_of_equal_terms_of_one_sign_and_of_cancelling_terms():
    one_sign = nn.Sequential(nn.Linear(4, 1, bias=False, dtype=torch.float64))
    with torch.no_grad():
        one_sign[0].weight.fill_(0.5)
    found = cancellation(one_sign, torch.ones(1, 4, dtype=torch.float64))
    assert found.ratio.tolist() == [1.0] and found.effective_count.tolist() == [4.0] and found.n_open.tolist() == [4]
    with torch.no_grad():
        one_sign[0].weight.copy_(torch.tensor([[0.5, -0.5, 0.5, -0.25]]))
    found = cancellation(one_sign, torch.ones(1, 4, dtype=torch.float64))
    assert found.ratio.tolist() == [7.0] and found.normalised_output.tolist() == [0.25 / np.sqrt(0.8125)]


def test_sampling_standard_error_is_that_of_the_mean_of_uniformly_drawn_circuits():
    model, x = mlp([4, 5, 6, 1], 0), random_input(4, 0)
    values = enumerate_circuits(model, x)
    n_paths, n = values.numel(), 500
    population_sd = values.std(correction=0).item()
    found = cancellation(model, x[None]).sampling_standard_error(n_paths, n)
    assert found[0] == pytest.approx(n_paths * population_sd / n ** 0.5, rel=1e-12)
    estimates = [estimate_path_sum(model, x, n, seed).estimate for seed in range(300)]
    assert 0.85 < np.std(estimates) / found[0] < 1.15


def synthetic_scaling(slope, noise, seed=0):
    """A CancellationScaling whose log ratios are slope * log(open count) + noise per network and input."""
    rng = np.random.default_rng(seed)
    log_open = np.log(np.array([[10.0, 100.0, 1000.0], [1e4, 1e5, 1e6]]))[:, :, None, None] + np.zeros((2, 3, 30, 5))
    log_ratio = slope * log_open + noise * rng.standard_normal(log_open.shape)
    return CancellationScaling([2, 3], [4, 8, 16], log_ratio, log_open, log_open - 1.0, np.ones_like(log_open))


def test_cancellation_exponent_is_the_fitted_slope_with_a_resampled_error():
    alpha, error = synthetic_scaling(0.5, 0.3).exponent("open")
    assert abs(alpha - 0.5) < 0.01 and 0 < error < 0.01
    assert synthetic_scaling(0.5, 0.3).grows_like_sqrt("open") is True
    assert synthetic_scaling(0.4, 0.3).grows_like_sqrt("open") is False
    assert synthetic_scaling(0.5, 20.0).grows_like_sqrt("open") is None  # too noisy to tell 1/2 from 0.45
    assert synthetic_scaling(0.5, 0.0).exponent("effective") == pytest.approx((0.5, 0.0), abs=1e-12)
    with pytest.raises(ValueError, match="count"):
        synthetic_scaling(0.5, 0.3).exponent("all")


def test_cancellation_scaling_measures_seeded_networks_of_every_depth_and_width():
    X = torch.stack([random_input(3, s) for s in range(4)])
    found = cancellation_scaling(3, [2, 3], [4, 6], 2, X, seed=7)
    assert found.log_ratio.shape == found.log_open.shape == (2, 2, 2, 4)
    again = cancellation_scaling(3, [2, 3], [4, 6], 2, X, seed=7)
    np.testing.assert_array_equal(found.log_ratio, again.log_ratio)
    assert found.log_open[1, 0].max() <= np.log(3 * 4 * 4) + 1e-12  # depth 3, width 4: at most 3 * 4 * 4 paths
    finite = np.isfinite(found.log_ratio)
    assert np.all(found.log_ratio[finite] >= -1e-12)  # Σ|Ψ| >= |ΣΨ|
    assert np.all(found.log_effective[finite] <= found.log_open[finite] + 1e-12)


def test_relative_path_sum_error_compares_the_path_sum_with_a_given_output():
    model, x = mlp([3, 4, 1], 0), random_input(3, 0)
    output = model(x).item()
    assert relative_path_sum_error(model, x, output) < 1e-15
    assert relative_path_sum_error(model, x, output + 4.0) == pytest.approx(4.0 / max(1.0, abs(output + 4.0)))


def test_hessian_check_pairs_are_all_pairs_or_a_sample_without_replacement():
    assert hessian_check_pairs(3, 9, np.random.default_rng(0)) == list(itertools.product(range(3), repeat=2))
    pairs = hessian_check_pairs(10, 30, np.random.default_rng(1))
    assert len(pairs) == len(set(pairs)) == 30 and all(0 <= a < 10 and 0 <= b < 10 for a, b in pairs)
    assert pairs == hessian_check_pairs(10, 30, np.random.default_rng(1))


def test_circuit_identity_errors_are_rounding_small_and_same_layer_blocks_exactly_zero():
    widths = [3, 4, 3, 1]
    model = mlp(widths, 1)
    inputs = torch.stack([random_input(3, seed) for seed in range(3)])
    n_weights = count_weights(widths)
    found = circuit_identity_errors(model, inputs, hessian_check_pairs(n_weights, n_weights**2, np.random.default_rng(0)))
    assert max(found.path_sum, found.gradient, found.hessian) < 1e-14 and found.same_layer_blocks_vanish()
    assert not CircuitIdentityErrors(0.0, 0.0, 0.0, 1e-300).same_layer_blocks_vanish()


def test_circuit_identity_errors_measure_a_wrong_hessian_entry(monkeypatch):
    import adaptsym.circuits as circuits

    model, x = mlp([3, 4, 1], 0), random_input(3, 0)[None]
    true_hessian = circuits.output_hessian
    monkeypatch.setattr(circuits, "output_hessian", lambda m, x: true_hessian(m, x) + 0.25)
    found = circuit_identity_errors(model, x, [(0, 12), (12, 0)])  # a cross-layer pair, both ways round
    assert found.hessian == pytest.approx(0.25, abs=1e-14) and found.same_layer == 0.25
    assert found.path_sum < 1e-15 and found.gradient < 1e-15


def test_risk_both_ways_and_signed_circuits_sum_to_the_margins():
    model = mlp([3, 4, 3, 1], 0)
    X = torch.randn(6, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    Y = torch.tensor([1.0, -1.0] * 3, dtype=torch.float64)
    circuit_form, direct = risk_both_ways(model, X, Y)
    assert direct == torch.clamp(1 - Y * model(X)[:, 0], min=0).mean().item()
    assert abs(circuit_form - direct) < 1e-15
    signed = signed_circuits(model, X, Y)
    assert signed.shape == (6, count_circuits([3, 4, 3]))
    torch.testing.assert_close(signed.sum(1), Y * model(X)[:, 0].detach(), **TOL)


class ScaledRun:
    """A stand-in for a training run whose snapshot at epoch e is ``model`` with its last layer times (1 + e)."""

    def __init__(self, model):
        self.base, self.history = model, [{"train_loss": 1.0 / (1 + e)} for e in range(3)]

    def model(self, epoch):
        scaled = copy.deepcopy(self.base)
        with torch.no_grad():
            scaled[-1].weight.mul_(1 + epoch)
        return scaled


def test_feedback_loop_summarises_the_signed_circuits_of_every_snapshot():
    model = mlp([3, 4, 3, 1], 0)
    X = torch.randn(8, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    Y = torch.tensor([1.0, -1.0] * 4, dtype=torch.float64)
    found = feedback_loop(ScaledRun(model), [0, 2], X, Y, bins=4)
    signed = signed_circuits(model, X, Y)
    open_values = signed[signed != 0]
    margin = (Y * model(X)[:, 0]).mean().item()
    assert found.mean_margin == pytest.approx([margin, 3 * margin], rel=1e-12)
    assert found.open_mean == pytest.approx([open_values.mean().item(), 3 * open_values.mean().item()], rel=1e-12)
    assert found.open_fraction == pytest.approx([len(open_values) / signed.numel()] * 2, rel=1e-6)
    assert found.positive_fraction == pytest.approx([(open_values > 0).double().mean().item()] * 2)
    assert found.asymmetry == pytest.approx([(open_values.mean() / open_values.std(correction=0)).item()] * 2)
    assert found.train_risk == [1.0, 1 / 3] and found.risk_ratio() == 1 / 3 and found.lowers_risk()
    assert found.margin_increase() == pytest.approx(2 * margin) and found.aligns_with_label() == (margin > 0)
    # tripled circuits leave the inner equal-mass bins of the first snapshot for the outer ones
    assert found.mass_shift.shape == (1, 4) and abs(found.mass_shift.sum()) < 1e-15
    assert found.mass_shift[0, 0] > 0 > found.mass_shift[0, 1] and found.mass_shift[0, 3] > 0 > found.mass_shift[0, 2]


def test_estimate_path_sum_is_the_sampled_estimate_with_its_standard_error():
    model, x = mlp([4, 5, 6, 1], 0), random_input(4, 0)
    found = estimate_path_sum(model, x, 500, 3)
    values, estimate = sample_circuits(model, x, 500, 3)
    assert found.n_paths == 120 and found.estimate == estimate.item() and found.exact == model(x).item()
    assert found.standard_error == pytest.approx(values.std().item() / 500**0.5 * 120, rel=1e-14)
    assert found.open_fraction == pytest.approx((values != 0).double().mean().item(), rel=1e-6)
    assert found.z_score == (found.estimate - found.exact) / found.standard_error
    z_scores = [estimate_path_sum(model, x, 500, seed).z_score for seed in range(200)]
    assert abs(np.mean(z_scores)) < 4 / 200**0.5 and 0.7 < np.std(z_scores) < 1.3
    assert PathSumEstimate(1, 1, 1.0, 0.5, 0.0, 1.0).unbiased() and not PathSumEstimate(1, 1, 2.0, 0.5, 0.0, 1.0).unbiased()
    # the z-test decides only where a bias as large as T(x) itself would fail it
    assert PathSumEstimate(1, 1, 10.0, 0.5, 10.2, 1.0).unbiasedness() is True
    assert PathSumEstimate(1, 1, 12.5, 0.5, 10.0, 1.0).unbiasedness() is False
    assert PathSumEstimate(1, 1, 0.0, 1e8, 1.0, 1.0).unbiasedness() is None  # any estimate of T's size passes


def test_cnn_path_sum_error_is_rounding_small_against_the_cnn_outputs():
    cnn = tiny_cnn(1, 1)
    images = torch.randn(3, 2, 4, 4, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    mlp_form = unroll_conv(cnn, (2, 4, 4), device="cpu")
    assert cnn_path_sum_error(cnn, mlp_form, images) < 1e-14
    with torch.no_grad():
        mlp_form[0].weight[0, 0] += 1.0  # a wrong unrolling: some image's path sum misses the CNN output
    assert cnn_path_sum_error(cnn, mlp_form, images) > 1e-3
