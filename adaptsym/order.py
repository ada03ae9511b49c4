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
from adaptsym.hessian import risk_gradient, weights_in_order
from adaptsym.models import mlp_linears


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


def order_parameter(history: Sequence[dict[str, Any]]) -> np.ndarray:
    """η_t ||∇R||² per epoch of a training history with ``train_grad_norm_sq`` (Li Fig. 4b), η_t the step size of
    the epoch that ends there (the first epoch's for epoch 0, the initialisation)."""
    if not history or "train_grad_norm_sq" not in history[0]:
        raise ValueError("the history has no train_grad_norm_sq: train with TrainConfig(record_gradient_norm=True)")
    if len(history) < 2:
        raise ValueError("the history needs at least one trained epoch")
    step = [history[1]["lr"]] + [h["lr"] for h in history[1:]]
    return np.array(step, dtype=float) * np.array([h["train_grad_norm_sq"] for h in history])


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
    epochs = np.array([h["epoch"] for h in history])
    op = order_parameter(history)
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


@dataclass(frozen=True)
class GradientSnapshot:
    """Fig. 4a at one snapshot: the gradient entries (scaled by their std) and their symmetry statistics.

    ``stats`` is None where the gradient is exactly zero (every margin above 1: nothing left to learn).
    """

    epoch: int
    norm_sq: float
    scaled: np.ndarray | None
    stats: dict[str, float] | None


def gradient_snapshots(ref, n_boot: int = 100, max_samples: int = 50_000, seed: int = 0,
                       device: str | torch.device = "auto") -> list[GradientSnapshot]:
    """The risk gradient over the whole training set at every snapshot of a reference run (Li Fig. 4a), computed on
    ``device``, with :func:`adaptsym.symmetry.symmetry_stats` of its entries."""
    from adaptsym.device import resolve_device
    from adaptsym.symmetry import symmetry_stats

    device = resolve_device(device)
    x, y = ref.x_train.to(device), ref.y_train.to(device)
    out = []
    for epoch in ref.epochs:
        grad = risk_gradient(ref.model(epoch, device=device), x, y, batch_size=1000).detach().to("cpu", torch.float64)
        zero = bool((grad == 0).all())
        out.append(GradientSnapshot(
            epoch, float(grad.square().sum()), None if zero else (grad / grad.std()).numpy(),
            None if zero else symmetry_stats(grad, n_boot=n_boot, max_samples=max_samples, seed=seed)))
    return out


def circuit_identity_rows(widths_list: Sequence[Sequence[int]], n_examples: int, seed: int = 0) -> list[list[Any]]:
    """Eqs. 15-16 on small networks of several depths (float64): widths, ||grad R||^2 by autograd and by the
    double sum over first-order circuit perturbations, and their relative difference.

    Inputs are standard normal and labels random signs, so that some margins violate and some do not.
    """
    from adaptsym.models import relu_mlp

    rows = []
    for k, widths in enumerate(widths_list):
        generator = torch.Generator().manual_seed(seed + k)
        x = torch.randn(n_examples, widths[0], generator=generator, dtype=torch.float64)
        y = torch.where(torch.rand(n_examples, generator=generator) < 0.5, 1.0, -1.0).to(torch.float64)
        model = relu_mlp(widths, seed=seed + k, dtype=torch.float64, device="cpu")
        exact, circuits = gradient_norm_sq(model, x, y), gradient_norm_sq_from_circuits(model, x, y)
        rows.append(["-".join(map(str, widths)), exact, circuits, abs(circuits - exact) / max(exact, 1e-300)])
    return rows


ORDER_OF_MAGNITUDE = (1 / 30, 1 / 3)
"""Our reading of "approximately an order of magnitude smaller" (Li Fig. 4b caption): op/risk within a factor
of 3 of 0.1."""


def order_parameter_claims(summary: OrderParameterSummary) -> list[dict[str, Any]]:
    """Li's statements about Fig. 4b, judged with stated criteria (``Ledger.record`` keyword arguments)."""
    low, high = ORDER_OF_MAGNITUDE
    rate = max(summary.op_rate, summary.risk_rate)
    stationary = int(((summary.op == 0) & (summary.risk > 0)).sum())
    return [
        dict(name="eta ||grad R||^2 is about an order of magnitude below the risk (Fig. 4b)",
             paper="'approximately an order of magnitude smaller than the loss' (Fig. 4b caption)",
             measured=summary.ratio_median, agrees=low <= summary.ratio_median <= high, kind="paper",
             criterion=f"median in [{low:.3f}, {high:.3f}]", detail="median of op/risk over epochs with both > 0"),
        dict(name="the order parameter falls at the rate of the risk (Fig. 4b)",
             paper="'decreases roughly by the same rate with the loss' (Fig. 4b caption)",
             measured=summary.ratio_log_slope, agrees=abs(summary.ratio_log_slope) <= 0.25 * rate, kind="paper",
             criterion="|slope| <= a quarter of the faster of the two rates",
             detail=f"slope of log(op/risk) per epoch; rates: op {summary.op_rate:.4f}, risk "
                    f"{summary.risk_rate:.4f} per epoch"),
        dict(name="training reaches zero risk, and the order parameter zero with it (Fig. 4b)",
             paper="'reaches zero when the empirical risk is zero' (§II.5.2)",
             measured=summary.risk_first_zero,
             agrees=summary.risk_first_zero is not None and summary.op_first_zero == summary.risk_first_zero,
             kind="paper", criterion="the risk reaches 0, and the order parameter at the same epoch",
             detail=f"first epoch of zero risk; of zero order parameter: {summary.op_first_zero}"),
        dict(name="no stationary point before zero risk (benign pathway)",
             paper="'stationary point ... could only be saddle points' (§II.6.5)",
             measured=stationary, agrees=stationary == 0, kind="paper", criterion="no such epoch",
             detail="epochs that end with ||grad R|| = 0 at non-zero risk"),
    ]


def gradient_symmetry_markdown(snapshots: Sequence[GradientSnapshot]):
    """Fig. 4a in numbers: per snapshot, ||grad R||^2 and the symmetry statistics of the gradient entries."""
    from adaptsym.tables import markdown_table, plus_minus

    rows = []
    for s in snapshots:
        if s.stats is None:
            rows.append([s.epoch, "0 (exactly)", "—", "—", "—", "—"])
            continue
        st = s.stats
        rows.append([s.epoch, f"{s.norm_sq:.3e}", plus_minus(st["mean_over_std"], st["mean_over_std_se"]),
                     plus_minus(st["skewness"], st["skewness_se"]),
                     f"{plus_minus(st['reflection_ks'], st['reflection_ks_se'])} (null {st['reflection_ks_null']:.3f})",
                     f"{st['reflection_p']:.3f}"])
    return markdown_table(["epoch", "‖∇R‖²", "mean/std", "skewness", "KS(g, −g)", "p (symmetric)"], rows)


def gradient_symmetry_claims(snapshots: Sequence[GradientSnapshot]) -> list[dict[str, Any]]:
    """Li's Fig. 4a statements with stated criteria (``Ledger.record`` keyword arguments)."""
    from adaptsym.circuit_symmetry import SLIGHT_KS, excess_ks

    live = [s for s in snapshots if s.stats is not None]
    worst = max(live, key=lambda s: excess_ks(s.stats))
    first, last = snapshots[0], snapshots[-1]
    shrink = last.norm_sq / first.norm_sq
    return [
        dict(name="gradient entries stay symmetric about zero through training (Fig. 4a)",
             paper="'symmetrically distributed against y-axis' (§II.5.2, Fig. 4a)",
             measured=excess_ks(worst.stats), agrees=excess_ks(worst.stats) <= SLIGHT_KS, kind="paper",
             criterion=f"largest excess KS <= {SLIGHT_KS}",
             detail=f"largest KS(g, -g) beyond its symmetric-null level over {len(live)} snapshots with a "
                    f"non-zero gradient (epoch {worst.epoch})"),
        dict(name="gradient entries converge to zero (Fig. 4a)",
             paper="'gradually converge to zero during the training' (§II.5.2)",
             measured=shrink, agrees=shrink <= 1e-6, kind="paper", criterion="ratio <= 1e-6",
             detail=f"||grad R||^2 at epoch {last.epoch} over its value at epoch {first.epoch}"),
    ]
