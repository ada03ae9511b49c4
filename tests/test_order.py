"""The plasticity order parameter: eqs. 15-16 against autograd, and the Fig. 4b summary on planted histories."""

import math

import numpy as np
import pytest
import torch

from adaptsym.models import hinge_loss, relu_mlp
from adaptsym.order import (
    GradientSnapshot,
    circuit_identity_rows,
    decay_rate,
    first_zero_epoch,
    gradient_norm_sq,
    gradient_norm_sq_from_circuits,
    gradient_symmetry_claims,
    order_parameter_claims,
    order_parameter_summary,
)
from adaptsym.symmetry import symmetry_stats


def data(d_in, m, seed):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(m, d_in, generator=generator, dtype=torch.float64)
    return x, torch.where(torch.rand(m, generator=generator) < 0.5, 1.0, -1.0).to(torch.float64)


def autograd_norm_sq(model, x, y):
    """||grad R||^2 written out with torch.autograd.grad, independently of the package."""
    grads = torch.autograd.grad(hinge_loss(model(x), y), list(model.parameters()))
    return sum(float(g.square().sum()) for g in grads)


@pytest.mark.parametrize("widths", [[3, 4, 1], [4, 3, 5, 1], [3, 4, 3, 4, 1], [2, 3, 3, 3, 3, 1]])
def test_eq_15_double_sum_of_first_order_perturbations_is_the_squared_gradient_norm(widths):
    model = relu_mlp(widths, seed=1, dtype=torch.float64, device="cpu")
    x, y = data(widths[0], 12, seed=1)
    exact = autograd_norm_sq(model, x, y)
    assert exact > 0
    assert abs(gradient_norm_sq_from_circuits(model, x, y) - exact) <= 1e-10 * exact
    assert abs(gradient_norm_sq(model, x, y) - exact) <= 1e-12 * exact
    assert abs(gradient_norm_sq(model, x, y, batch_size=5) - exact) <= 1e-12 * exact


def test_order_parameter_is_zero_once_every_margin_exceeds_one():
    model = relu_mlp([3, 8, 1], seed=0, dtype=torch.float64, device="cpu")
    x, _ = data(3, 10, seed=0)
    with torch.no_grad():
        y = torch.sign(model(x)[:, 0])
        model[-1].weight.mul_(10 / (y * model(x)[:, 0]).min())
    assert gradient_norm_sq(model, x, y) == 0.0
    assert gradient_norm_sq_from_circuits(model, x, y) == 0.0


def planted_history(op_rate, risk_rate, ratio, zero_at, epochs=40, lr=0.1):
    history = [{"epoch": e, "lr": None if e == 0 else lr} for e in range(epochs + 1)]
    for h in history:
        e = h["epoch"]
        risk = 0.0 if e >= zero_at else math.exp(-risk_rate * e)
        h["train_loss"] = risk
        h["train_grad_norm_sq"] = 0.0 if e >= zero_at else ratio * math.exp(-op_rate * e) / lr
    return history


def test_summary_recovers_planted_rates_ratio_and_first_zero():
    summary = order_parameter_summary(planted_history(op_rate=0.2, risk_rate=0.2, ratio=0.1, zero_at=30))
    assert summary.op_rate == pytest.approx(0.2, rel=1e-9)
    assert summary.risk_rate == pytest.approx(0.2, rel=1e-9)
    assert summary.ratio_median == pytest.approx(0.1, rel=1e-9)
    assert abs(summary.ratio_log_slope) < 1e-9
    assert summary.op_first_zero == summary.risk_first_zero == 30
    np.testing.assert_allclose(summary.op[:30], 0.1 * np.exp(-0.2 * np.arange(30)))


def test_summary_sees_different_rates():
    summary = order_parameter_summary(planted_history(op_rate=0.3, risk_rate=0.1, ratio=0.5, zero_at=99))
    assert summary.ratio_log_slope == pytest.approx(-0.2, rel=1e-9)
    assert summary.op_first_zero is None


def test_decay_rate_and_first_zero_edge_cases():
    epochs = np.arange(5)
    assert first_zero_epoch(epochs, [3, 2, 0, 1, 0]) == 2
    assert decay_rate(epochs, [1.0, 0, 0, 0, 0]) != decay_rate(epochs, [1.0, 0, 0, 0, 0])  # nan: one point
    assert decay_rate(epochs, np.exp(-0.5 * epochs)) == pytest.approx(0.5)


def test_summary_rejects_a_history_without_gradient_norms():
    with pytest.raises(ValueError, match="record_gradient_norm=True"):
        order_parameter_summary([{"epoch": 0, "lr": None, "train_loss": 1.0}])


def test_order_parameter_claims_follow_their_criteria():
    same = order_parameter_claims(order_parameter_summary(planted_history(0.2, 0.2, ratio=0.1, zero_at=30)))
    assert [c["agrees"] for c in same] == [True, True, True, True]
    apart = order_parameter_claims(order_parameter_summary(planted_history(0.3, 0.1, ratio=20.0, zero_at=99)))
    assert [c["agrees"] for c in apart] == [False, False, False, True]


def test_a_stationary_point_at_positive_risk_is_counted():
    history = planted_history(0.2, 0.2, ratio=0.1, zero_at=30)
    history[10]["train_grad_norm_sq"] = 0.0
    claims = order_parameter_claims(order_parameter_summary(history))
    assert claims[-1]["measured"] == 1 and claims[-1]["agrees"] is False


def test_circuit_identity_rows_are_exact_in_float64():
    rows = circuit_identity_rows([[3, 2, 1], [3, 2, 2, 1]], n_examples=6, seed=0)
    assert [r[0] for r in rows] == ["3-2-1", "3-2-2-1"]
    assert all(r[3] <= 1e-12 for r in rows)


def test_gradient_claims_on_planted_snapshots():
    rng = np.random.default_rng(0)
    symmetric = [GradientSnapshot(e, 1.0 / (1 + e), rng.standard_normal(500),
                                  symmetry_stats(rng.standard_normal(5000), n_boot=20)) for e in range(3)]
    zero = GradientSnapshot(3, 0.0, None, None)
    assert [c["agrees"] for c in gradient_symmetry_claims(symmetric + [zero])] == [True, True]
    skewed = GradientSnapshot(0, 1.0, None, symmetry_stats(rng.exponential(size=5000) - np.log(2), n_boot=20))
    assert [c["agrees"] for c in gradient_symmetry_claims([skewed, symmetric[1]])] == [False, False]
