"""The plasticity order parameter ||grad R||^2 (Li §II.5.2, eqs. 15-16, Fig. 4b).

Li defines the order parameter of a DNN as the squared norm of the risk gradient.  In circuit form (eq. 15)
every gradient entry is the sum of the first-order perturbations Omega of the basis circuits through that
weight (eq. 16: the circuit with the weight differentiated out, fed the datum x_{i_0} at the bottom and the
loss derivative L'(.) at the top), so

    ||grad R||^2 = sum_l sum_{i_{l-1}, i_l} sum_{i, i'} Omega_i Omega_{i'},

a double sum over pairs of perturbations, which Li sets beside the spin-glass order parameter
E[sum_ij sigma_i sigma_j] (eq. 17; see :mod:`adaptsym.spinglass`).  Here R is the hinge risk of eq. 12,
R = (1/m) sum_k max(0, 1 - y_k T(x_k)), so L' = -y_k / m on margin-violating examples and 0 elsewhere.

Fig. 4b plots the step-size-rescaled order parameter eta ||grad R||^2 beside the risk through training;
:func:`order_parameter_summary` measures what the paper says of the two curves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch
from torch import nn

from adaptsym.circuits import first_order_circuits
from adaptsym.hessian import weights_in_order
from adaptsym.models import hinge_loss, mlp_linears


def risk_gradient(model: nn.Module, X: torch.Tensor, y: torch.Tensor, batch_size: int | None = None) -> torch.Tensor:
    """grad R of the full-data hinge risk (Li eq. 12) as one flat vector over ``model.parameters()``, computed
    in fixed batches of ``batch_size`` examples (all at once if None), each weighted by its share of the data."""
    params = list(model.parameters())
    total = [torch.zeros_like(p) for p in params]
    chunk = batch_size or len(X)
    for xb, yb in zip(X.split(chunk), y.split(chunk)):
        for acc, g in zip(total, torch.autograd.grad(hinge_loss(model(xb), yb) * (len(xb) / len(X)), params)):
            acc += g
    return torch.cat([g.reshape(-1) for g in total])


def gradient_norm_sq(model: nn.Module, X: torch.Tensor, y: torch.Tensor, batch_size: int | None = None) -> float:
    """||grad R||^2 of the full-data hinge risk by autograd (the order parameter, Li eq. 15), in batches."""
    return float(risk_gradient(model, X, y, batch_size=batch_size).square().sum())


def gradient_norm_sq_from_circuits(model: nn.Sequential, X: torch.Tensor, y: torch.Tensor) -> float:
    """||grad R||^2 as Li's eq. 15: per weight, the double sum over pairs of first-order perturbations (eq. 16).

    For each weight w^l_{ij}, Omega collects, over every margin-violating example k, the circuits through
    w^l_{ij} with that weight differentiated out (:func:`adaptsym.circuits.first_order_circuits`; the datum is
    part of each circuit value) times L' = -y_k/m.  sum_{i,i'} Omega_i Omega_{i'} is (sum_i Omega_i)^2.
    Enumerates every circuit: small bias-free MLPs with one output only.
    """
    linears = mlp_linears(model)
    widths = [linears[0].in_features] + [layer.out_features for layer in linears]
    if widths[-1] != 1:
        raise ValueError("the hinge risk of eq. 12 needs a model with a single output neuron")
    y = y.to(X.dtype)
    with torch.no_grad():
        margins = y * model(X)[:, 0]
    violating = torch.nonzero(margins < 1).flatten().tolist()
    total = 0.0
    for weight, _ in weights_in_order(widths):
        omega = torch.cat([first_order_circuits(model, X[k], *weight) * (-y[k] / len(X)) for k in violating]
                          or [torch.zeros(1, dtype=X.dtype)])
        total += float(torch.outer(omega, omega).sum())
    return total


@dataclass(frozen=True)
class OrderParameterSummary:
    """What Li says of Fig. 4b, measured on one training history.

    ``op`` is eta_t ||grad R||^2 per epoch (eta_t the step size used in the epoch that ends there; the first
    epoch's for epoch 0), ``risk`` the training hinge risk.  Decay rates are fitted on log(value) against the
    epoch over the epochs where the value is positive, up to its first zero: value ~ a exp(-rate * epoch).
    """

    epochs: np.ndarray
    op: np.ndarray
    risk: np.ndarray
    ratio_median: float
    ratio_log_slope: float
    op_rate: float
    risk_rate: float
    op_first_zero: int | None
    risk_first_zero: int | None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if not isinstance(v, np.ndarray)}


def order_parameter_summary(history: Sequence[dict[str, Any]], zero: float = 0.0) -> OrderParameterSummary:
    """Fig. 4b from a training history with ``train_grad_norm_sq`` (see ``TrainConfig.record_gradient_norm``).

    Measures: the median of op/risk over epochs where both are positive (paper: about an order of magnitude
    below 1), the slope of log(op/risk) per epoch (paper: both fall "by the same rate", slope ~ 0), the
    fitted decay rate of each, and the first epoch at which each is at most ``zero`` (exact zero by default:
    with plain SGD both are exactly 0 once every margin exceeds 1).
    """
    if not history or "train_grad_norm_sq" not in history[0]:
        raise ValueError("the history has no train_grad_norm_sq: train with TrainConfig(record_gradient_norm=True)")
    epochs = np.array([h["epoch"] for h in history])
    step = [h["lr"] for h in history]
    step[0] = step[1] if len(step) > 1 else None
    if step[0] is None:
        raise ValueError("the history needs at least one trained epoch")
    op = np.array(step, dtype=float) * np.array([h["train_grad_norm_sq"] for h in history])
    risk = np.array([h["train_loss"] for h in history])
    both = (op > 0) & (risk > 0)
    log_ratio = np.log(op[both] / risk[both])
    slope = float(np.polyfit(epochs[both], log_ratio, 1)[0]) if both.sum() > 1 else float("nan")
    return OrderParameterSummary(
        epochs, op, risk,
        ratio_median=float(np.exp(np.median(log_ratio))) if both.any() else float("nan"),
        ratio_log_slope=slope,
        op_rate=decay_rate(epochs, op, zero), risk_rate=decay_rate(epochs, risk, zero),
        op_first_zero=first_zero_epoch(epochs, op, zero), risk_first_zero=first_zero_epoch(epochs, risk, zero))


def first_zero_epoch(epochs: np.ndarray, values: np.ndarray, zero: float = 0.0) -> int | None:
    """The first epoch whose value is at most ``zero``, or None if there is none."""
    hits = np.nonzero(np.asarray(values) <= zero)[0]
    return int(np.asarray(epochs)[hits[0]]) if len(hits) else None


def decay_rate(epochs: np.ndarray, values: np.ndarray, zero: float = 0.0) -> float:
    """Least-squares rate r of values ~ a exp(-r epoch) over the positive values before the first zero."""
    epochs, values = np.asarray(epochs, dtype=float), np.asarray(values, dtype=float)
    stop = first_zero_epoch(epochs, values, zero)
    keep = (values > zero) & (epochs < (np.inf if stop is None else stop))
    if keep.sum() < 2:
        return float("nan")
    return float(-np.polyfit(epochs[keep], np.log(values[keep]), 1)[0])
