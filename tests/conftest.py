"""Shared small test models (float64, CPU, seeded): bias-free ReLU MLPs, a teacher data set and a trained MLP."""

import pytest
import torch

from adaptsym.device import one_cpu_thread
from adaptsym.models import hinge_loss, relu_mlp


def teacher_labels(x: torch.Tensor, seed: int) -> torch.Tensor:
    """Labels ±1 from the sign of a random linear teacher of the flattened inputs."""
    teacher = torch.randn(x[0].numel(), generator=torch.Generator().manual_seed(seed + 1), dtype=x.dtype)
    return torch.where(x.flatten(1) @ teacher >= 0, 1.0, -1.0).to(x.dtype)


@pytest.fixture(scope="module")
def one_thread():
    """One torch thread for a module of tiny networks: a second thread only adds contention on a shared machine."""
    with one_cpu_thread():
        yield


@pytest.fixture
def make_mlp():
    """Factory ``(widths, seed=0) -> relu_mlp`` in float64 on the CPU."""
    return lambda widths, seed=0: relu_mlp(widths, seed=seed, dtype=torch.float64, device="cpu")


@pytest.fixture
def teacher_data():
    """Factory ``(shape, m, seed=0) -> (x, y)``: m standard normal inputs of ``shape`` and teacher labels."""
    def make(shape, m, seed=0):
        x = torch.randn(m, *shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
        return x, teacher_labels(x, seed)
    return make


@pytest.fixture(scope="session")
def trained_mlp():
    """``(model, x, y)``: a [6, 10, 10, 1] MLP after 60 full-batch gradient steps on 60 teacher examples: partly
    trained, with about two thirds of the margins below 1. Tests must not modify it (copy it first)."""
    x = torch.randn(60, 6, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    y = teacher_labels(x, 0)
    model = relu_mlp([6, 10, 10, 1], seed=0, dtype=torch.float64, device="cpu")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    for _ in range(60):
        optimizer.zero_grad()
        hinge_loss(model(x), y).backward()
        optimizer.step()
    return model, x, y
