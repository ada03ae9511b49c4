"""Dense autograd derivatives of the output and the weight-index convention."""

import torch
from torch import nn

from adaptsym import hessian


def net(widths, seed=0):
    torch.manual_seed(seed)
    layers = []
    for a, b in zip(widths[:-1], widths[1:]):
        layers += [nn.Linear(a, b, bias=False).double(), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


def test_weight_index_points_at_weight_j_i_of_the_layer():
    widths = [3, 4, 2, 1]
    model = net(widths)
    flat = hessian.flat_weights(model)
    for (layer, i, j), index in hessian.weights_in_order(widths):
        assert flat[index] == model[2 * (layer - 1)].weight[j, i]
    assert [index for _, index in hessian.weights_in_order(widths)] == list(range(len(flat)))


def test_gradient_and_hessian_match_finite_differences():
    widths = [3, 4, 2, 1]
    model = net(widths, seed=1)
    x = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64)
    grad, hess = hessian.output_gradient(model, x), hessian.output_hessian(model, x)
    theta = hessian.flat_weights(model)
    f = hessian._output_of_flat_weights(model, x)
    eps = 1e-6
    for k in (0, 7, 15, len(theta) - 1):
        step = torch.zeros_like(theta)
        step[k] = eps
        assert abs((f(theta + step) - f(theta - step)) / (2 * eps) - grad[k]) < 1e-8
        fd = (torch.func.grad(f)(theta + step) - torch.func.grad(f)(theta - step)) / (2 * eps)
        assert torch.allclose(fd, hess[k], atol=1e-8)
    assert torch.allclose(hess, hess.T)
