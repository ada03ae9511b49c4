"""Derivatives of a network's output with respect to its flattened weights, by autograd (torch.func).

The flattened weight vector concatenates ``model.parameters()`` in order, each matrix row-major.  For a
bias-free MLP the paper's weight w^l_{ij} (neuron i of layer l-1 to neuron j of layer l) is
``linear_l.weight[j, i]`` (see :mod:`adaptsym.circuits`), at the index given by :func:`weight_index`.
These dense derivatives are the exact references that circuit sums (Li eqs. 16, 19) are checked against.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch
from torch import nn
from torch.func import functional_call


def weight_index(widths: Sequence[int], layer: int, i: int, j: int) -> int:
    """Index of w^layer_{ij} in the flattened weights of a bias-free MLP with ``widths``."""
    offset = sum(a * b for a, b in zip(widths[: layer - 1], widths[1:layer]))
    return offset + j * widths[layer - 1] + i


def weights_in_order(widths: Sequence[int]) -> Iterator[tuple[tuple[int, int, int], int]]:
    """Every weight ``(layer, i, j)`` with its flattened index, in flattened order."""
    for layer, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:]), start=1):
        for j in range(fan_out):
            for i in range(fan_in):
                yield (layer, i, j), weight_index(widths, layer, i, j)


def _output_of_flat_weights(model: nn.Module, x: torch.Tensor):
    names = [name for name, _ in model.named_parameters()]
    shapes = [p.shape for p in model.parameters()]

    def output(theta: torch.Tensor) -> torch.Tensor:
        pieces = theta.split([s.numel() for s in shapes])
        params = {n: p.reshape(s) for n, p, s in zip(names, pieces, shapes)}
        return functional_call(model, params, (x[None],)).reshape(())

    return output


def flat_weights(model: nn.Module) -> torch.Tensor:
    """The model's parameters as one detached vector."""
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()])


def output_gradient(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``∂T(x)/∂θ`` for one input ``x`` and a single-output model, as a vector over the flattened weights."""
    return torch.func.grad(_output_of_flat_weights(model, x))(flat_weights(model))


def output_hessian(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``∂²T(x)/∂θ∂θ`` for one input ``x`` and a single-output model: a dense (P, P) matrix."""
    return torch.func.hessian(_output_of_flat_weights(model, x))(flat_weights(model))
