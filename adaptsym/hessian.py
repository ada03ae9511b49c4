"""The Hessian of a network's output and of its hinge risk, with respect to the flattened weights (Li §II.6, §II.7,
Figs. 6-8): exact Hessian-vector products, per-example Hessian entries and their bootstrap, and the spectral
density by stochastic Lanczos quadrature.

The flattened weight vector concatenates ``model.parameters()`` in order, each tensor row-major; one parameter
tensor is one layer, counted from 1 as in the paper (:func:`weight_layers`). For a bias-free MLP the paper's
weight w^l_{ij} (neuron i of layer l-1 to neuron j of layer l) is ``linear_l.weight[j, i]`` (see
:mod:`adaptsym.circuits`), at the index given by :func:`weight_index`.

Structure of the risk Hessian (Li §II.7). The hinge loss ℓ_k = max(0, 1 - y_k T(x_k)) (Li eq. 12) is piecewise
linear in T, so the Hessian of R = mean_k ℓ_k is ``H = -(1/m) Σ_{k: y_k T(x_k) < 1} y_k ∇²T(x_k)``. A bias-free ReLU
network is, between gate flips, linear in each layer's weights (every basis circuit passes one weight per layer,
Li eq. 11), so within-layer blocks of ∇²T vanish: diag(H) = 0 and tr(H) = 0, only cross-layer entries carry
information, and H = 0 once every margin exceeds 1. :func:`hessian_structure_check` measures these facts.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import torch
from scipy import stats
from torch import nn
from torch.func import functional_call, grad, jvp, vmap

from adaptsym.device import resolve_device
from adaptsym.checks import check_choice
from adaptsym.models import count_parameters, hinge_loss, hinge_risk_per_example, margins, mlp_linears
from adaptsym.progress import progress_bar

ENTRY_METHODS = ("auto", "mlp", "autodiff")
PAIR_CHUNK = 8
"""Pairs whose entries the autodiff path computes together (memory: PAIR_CHUNK forward passes of a batch)."""


# --- flattened weights ------------------------------------------------------------------------------------------

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


def flat_weights(model: nn.Module) -> torch.Tensor:
    """The model's parameters as one detached vector."""
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()])


def weight_layers(model: nn.Module) -> torch.Tensor:
    """Layer (1-based parameter tensor) of every flattened weight: a LongTensor of shape (N,) on the CPU."""
    sizes = torch.tensor([p.numel() for p in model.parameters()])
    return torch.repeat_interleave(torch.arange(1, len(sizes) + 1), sizes)


def _unflatten(model: nn.Module) -> Callable[[torch.Tensor], dict[str, torch.Tensor]]:
    """Map a flat weight vector to the ``functional_call`` parameter dictionary of ``model``."""
    names = [name for name, _ in model.named_parameters()]
    shapes = [p.shape for p in model.parameters()]
    sizes = [s.numel() for s in shapes]
    return lambda theta: {n: p.reshape(s) for n, p, s in zip(names, theta.split(sizes), shapes)}


def _output_of_flat_weights(model: nn.Module, x: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
    """T(x) for one input ``x`` as a scalar function of the flat weights."""
    params = _unflatten(model)
    return lambda theta: functional_call(model, params(theta), (x[None],)).reshape(())


def _risk_of_flat_weights(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
    """The hinge risk mean_k max(0, 1 - y_k T(x_k)) of the examples ``(x, y)`` (Li eq. 12) of the flat weights."""
    params = _unflatten(model)
    return lambda theta: hinge_loss(functional_call(model, params(theta), (x,)), y)


def output_gradient(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``∂T(x)/∂θ`` for one input ``x`` and a single-output model, as a vector over the flattened weights."""
    return grad(_output_of_flat_weights(model, x))(flat_weights(model))


def dense_hessian(f: Callable[[torch.Tensor], torch.Tensor], theta: torch.Tensor) -> torch.Tensor:
    """``torch.func.hessian(f)(theta)``.  torch 2.14's forward-over-reverse decompositions call the deprecated
    ``torch.jit.script`` internally; its FutureWarning is about torch's own code, so it is silenced here rather than
    printed (with the library's absolute path) into every chapter that takes a Hessian."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="`torch.jit.script` is deprecated", category=FutureWarning)
        return torch.func.hessian(f)(theta)


def output_hessian(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``∂²T(x)/∂θ∂θ`` for one input ``x`` and a single-output model: a dense (N, N) matrix."""
    return dense_hessian(_output_of_flat_weights(model, x), flat_weights(model))


# --- derivatives of the training risk -----------------------------------------------------------------------------

def _batches(m: int, batch_size: int | None) -> list[slice]:
    """Fixed consecutive slices of ``batch_size`` examples (all ``m`` at once for ``None``)."""
    if batch_size is not None and batch_size < 1:
        raise ValueError(f"batch_size must be a positive number of examples or None (all at once); got {batch_size}")
    size = m if batch_size is None else batch_size
    return [slice(start, min(start + size, m)) for start in range(0, m, size)]


def risk_gradient(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int | None = None) -> torch.Tensor:
    """∇R of the hinge risk over the training set (Li eq. 12), a flat vector over ``model.parameters()``.

    Batches of ``batch_size`` consecutive examples are differentiated one after the other and weighted by their
    share of the m examples, so the result does not depend on ``batch_size`` beyond rounding.
    """
    theta = flat_weights(model)
    return sum((s.stop - s.start) / len(x) * grad(_risk_of_flat_weights(model, x[s], y[s]))(theta)
               for s in _batches(len(x), batch_size))


def risk_hvp(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
             batch_size: int | None = None) -> Callable[[torch.Tensor], torch.Tensor]:
    """v ↦ Hv, the Hessian of the hinge risk over the training set (Li eq. 12) at the model's current weights.

    Forward-over-reverse: ``torch.func.jvp`` of ``torch.func.grad`` of a ``functional_call``, batch by batch as in
    :func:`risk_gradient`. ``v`` is a flat vector in the order of :func:`flat_weights`, of any floating dtype and
    device; it is evaluated in the model's dtype and device and Hv is returned in ``v``'s.
    """
    theta = flat_weights(model)
    parts = [((s.stop - s.start) / len(x), grad(_risk_of_flat_weights(model, x[s], y[s])))
             for s in _batches(len(x), batch_size)]

    def hvp(v: torch.Tensor) -> torch.Tensor:
        if v.shape != theta.shape:
            raise ValueError(f"v must be a flat vector of the {theta.numel()} weights; got shape {tuple(v.shape)}")
        tangent = v.to(theta)
        return sum(share * jvp(gradient, (theta,), (tangent,))[1] for share, gradient in parts).to(v)

    return hvp


def risk_hessian(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The dense (N, N) Hessian of the hinge risk by ``torch.func.hessian``: the exact reference for small networks."""
    return dense_hessian(_risk_of_flat_weights(model, x, y), flat_weights(model))


def hessian_structure_check(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
    """Measure the structural facts of the risk Hessian of a bias-free ReLU network (Li §II.7) on the dense H.

    Returns the largest |entry| of H (its scale), the largest |diagonal entry|, |tr H|, the largest |entry| of the
    within-layer blocks, the largest |H - (-(1/m) Σ_{violators} y_k ∇²T(x_k))| with ∇²T by :func:`output_hessian`,
    and the number of margin violators (y T(x) < 1). For a bias-free ReLU network all but the scale and the count are
    rounding errors, and H = 0 when there are no violators.
    """
    h = risk_hessian(model, x, y)
    layers = weight_layers(model).to(h.device)
    with torch.no_grad():
        violators = torch.nonzero(margins(model, x, y) < 1).flatten().tolist()
    violator_sum = sum((-y[k] * output_hessian(model, x[k]) for k in violators), torch.zeros_like(h)) / len(x)
    return {
        "max_entry": h.abs().max().item(),
        "max_diagonal": h.diagonal().abs().max().item(),
        "trace": h.trace().abs().item(),
        "max_within_layer": h[layers[:, None] == layers[None, :]].abs().max().item(),
        "max_violator_sum_error": (h - violator_sum).abs().max().item(),
        "violators": len(violators),
    }


# --- per-example Hessian entries and their bootstrap (Li Figs. 6-7, supp. I) ---------------------------------------

def random_cross_layer_pairs(model: nn.Module, n: int, seed: int = 0) -> torch.Tensor:
    """``n`` distinct weight pairs (a, b), a < b, in different layers, uniform among all such pairs: (n, 2) LongTensor.

    Within-layer Hessian entries are structurally 0 (module docstring), so only cross-layer pairs are sampled.
    """
    layers = weight_layers(model)
    sizes = torch.bincount(layers)[1:]
    available = (int(sizes.sum()) ** 2 - int((sizes ** 2).sum())) // 2
    if not 1 <= n <= available:
        raise ValueError(f"n must be between 1 and the {available} cross-layer weight pairs; got {n}")
    generator = torch.Generator().manual_seed(seed)
    chosen: dict[tuple[int, int], None] = {}  # insertion-ordered, so the draw order fixes the result
    while len(chosen) < n:
        draws = torch.randint(len(layers), (2 * (n - len(chosen)) + 16, 2), generator=generator)
        for a, b in draws[layers[draws[:, 0]] != layers[draws[:, 1]]].sort(dim=1).values.tolist():
            chosen.setdefault((a, b))
            if len(chosen) == n:
                break
    return torch.tensor(list(chosen), dtype=torch.long)


def hessian_entries(model: nn.Module, x: torch.Tensor, y: torch.Tensor, pairs: torch.Tensor | Sequence,
                    batch_size: int = 256, *, method: str = "auto", progress: bool = True) -> torch.Tensor:
    """Per-example Hessian entries ∂²ℓ_k/∂θ_a∂θ_b of the hinge loss ℓ_k (Li eq. 12; Fig. 6a): shape (m, P).

    ``pairs`` holds P flat index pairs (a, b); the mean over the m examples of column p is H_{a_p b_p}. Entries are
    computed once, ``batch_size`` examples at a time; :func:`bootstrap_entries` resamples them.

    ``method``: ``"mlp"`` is the closed form for a bias-free ReLU MLP (:func:`adaptsym.models.mlp_linears`): for
    w^p_{ij} and w^q_{kl} with p < q, ∂²T/∂w^p_{ij}∂w^q_{kl} = a^{p-1}_i (∂a^{q-1}_k/∂z^p_j) δ^q_l — an activation, a
    gated Jacobian block and a back-propagated signal δ^q = ∂T/∂z^q (the second-order circuit sum of Li eq. 19), and
    0 within a layer; ∂²ℓ_k = -y_k ∂²T(x_k) on margin violators, else 0. Its cost is a few batched matrix products
    per layer pair. ``"autodiff"`` works for any model (CNNs included): per pair, a forward-over-forward
    ``torch.func.jvp`` along the basis vectors e_b then e_a of the per-example losses, vectorised over
    :data:`PAIR_CHUNK` pairs with ``vmap`` — about three forward passes per pair. ``"auto"`` picks ``"mlp"`` when the
    model is such an MLP.
    """
    check_choice(method, ENTRY_METHODS, "method")
    pairs = torch.as_tensor(pairs, dtype=torch.long).reshape(-1, 2)
    n_weights = count_parameters(model)
    if pairs.numel() and not (0 <= int(pairs.min()) and int(pairs.max()) < n_weights):
        raise ValueError(f"pairs must hold flat weight indices in [0, {n_weights}); got {pairs.min()}..{pairs.max()}")
    if method == "auto":
        method = "mlp" if _is_mlp(model) else "autodiff"
    compute = _mlp_entries if method == "mlp" else _autodiff_entries
    slices = progress_bar(_batches(len(x), batch_size), desc="Hessian entries", disable=not progress)
    return torch.cat([compute(model, x[s], y[s], pairs) for s in slices])


def _is_mlp(model: nn.Module) -> bool:
    """Whether ``model`` is a bias-free ReLU MLP shaped like :func:`adaptsym.models.relu_mlp`."""
    try:
        mlp_linears(model)
    except ValueError:
        return False
    return True


def _mlp_entries(model: nn.Module, x: torch.Tensor, y: torch.Tensor, pairs: torch.Tensor) -> torch.Tensor:
    """Closed-form entries (see :func:`hessian_entries`) for one batch of examples of a bias-free ReLU MLP.

    Everything is laid out neuron-major, (neurons, ..., examples), so that gathering the neurons of the pairs
    copies contiguous rows and each layer of the gated Jacobian is one matrix product.
    """
    weights = [linear.weight.detach() for linear in mlp_linears(model)]
    acts, gates, signals, output = _gated_pass(weights, x)
    slope = torch.where(hinge_risk_per_example(output, y) > 0, -y, 0)  # dℓ/dT; ℓ is linear in T on each side
    (low, i, j), (high, k, l) = _mlp_coordinates(weights, pairs)  # weight w^low_{ij} below w^high_{kl}
    entries = x.new_zeros(len(pairs), len(x))
    for p in torch.unique(low[high > low]).tolist():
        from_p = (low == p) & (high > p)
        columns, column = torch.unique(j[from_p], return_inverse=True)
        for r in range(p, len(weights)):
            # jacobian[k, c, example] = ∂a^r_k/∂z^p_j for j = columns[c]; at r = p it is diagonal, g^p_j [k = j]
            if r == p + 1:
                jacobian = gates[r][:, None, :] * weights[p][:, columns, None] * gates[p][None, columns, :]
            elif r > p + 1:
                jacobian = gates[r][:, None, :] * (weights[r - 1] @ jacobian.flatten(1)).view(-1, *jacobian.shape[1:])
            here = high[from_p] == r + 1
            sel = torch.nonzero(from_p).flatten()[here]
            block = (gates[p][k[sel]] * (k[sel] == j[sel])[:, None] if r == p
                     else jacobian[k[sel], column[here]])
            entries[sel] = acts[p - 1][i[sel]] * block * signals[r + 1][l[sel]]
    return (entries * slope).T


def _gated_pass(weights: list[torch.Tensor], x: torch.Tensor):
    """Activations a^0..a^{L-1}, gates g^1..g^{L-1} (index 0 unused) and back-propagated signals δ^l = ∂T/∂z^l,
    l = 1..L (index 0 unused), each (neurons, examples), and the outputs T (examples,), for a batch of inputs of a
    bias-free ReLU MLP (Li eqs. 7-10)."""
    if weights[-1].shape[0] != 1:
        raise ValueError(f"Hessian entries need a single output neuron; the model has {weights[-1].shape[0]}")
    acts, gates = [x.T], [None]
    for weight in weights[:-1]:
        z = weight @ acts[-1]
        gates.append((z > 0).to(z.dtype))
        acts.append(gates[-1] * z)
    signals = [None] * len(weights) + [x.new_ones(1, len(x))]
    for layer in range(len(weights) - 1, 0, -1):
        signals[layer] = gates[layer] * (weights[layer].T @ signals[layer + 1])
    return acts, gates, signals, (weights[-1] @ acts[-1])[0]


def _mlp_coordinates(weights: list[torch.Tensor], pairs: torch.Tensor):
    """(layer, i, j) of the lower and of the higher weight of each pair, where w^layer_{ij} = ``weight[j, i]``."""
    offsets = torch.tensor([0] + [w.numel() for w in weights]).cumsum(0)
    fan_in = torch.tensor([w.shape[1] for w in weights])
    layer = torch.searchsorted(offsets, pairs, right=True)  # 1-based: offsets[layer - 1] <= index < offsets[layer]
    local = pairs - offsets[layer - 1]
    swap = layer[:, 0] > layer[:, 1]
    order = torch.stack([swap, ~swap], dim=1).long()  # column 0 picks the lower weight
    layer, i, j = (t.gather(1, order).to(weights[0].device) for t in (layer, local % fan_in[layer - 1],
                                                                      local // fan_in[layer - 1]))
    return (layer[:, 0], i[:, 0], j[:, 0]), (layer[:, 1], i[:, 1], j[:, 1])


def _autodiff_entries(model: nn.Module, x: torch.Tensor, y: torch.Tensor, pairs: torch.Tensor) -> torch.Tensor:
    """Entries for one batch of examples of any model, by forward-over-forward jvp (see :func:`hessian_entries`)."""
    theta, params = flat_weights(model), _unflatten(model)

    def losses(t: torch.Tensor) -> torch.Tensor:
        return hinge_risk_per_example(functional_call(model, params(t), (x,)), y)

    def entry(e_a: torch.Tensor, e_b: torch.Tensor) -> torch.Tensor:
        return jvp(lambda t: jvp(losses, (t,), (e_b,))[1], (theta,), (e_a,))[1]

    basis = lambda index: nn.functional.one_hot(index.to(theta.device), len(theta)).to(theta.dtype)  # noqa: E731
    chunks = [vmap(entry)(basis(chunk[:, 0]), basis(chunk[:, 1])) for chunk in pairs.split(PAIR_CHUNK)]
    return torch.cat(chunks).T if chunks else x.new_zeros(len(x), 0)


def bootstrap_entries(entries: torch.Tensor, n_boot: int, seed: int = 0,
                      resample_size: int | None = None) -> torch.Tensor:
    """Bootstrap replicates of the Hessian entries (Li Fig. 6a, supp. I A): shape (B, P) for ``n_boot`` = B.

    Replicate r is the mean of ``entries`` (m, P) over ``resample_size`` examples (default m) drawn with
    replacement: a (B, m) matrix of multinomial counts times ``entries``, so B replicates cost one matrix product.
    Draws come from a CPU generator seeded by ``seed``, the same on every device.
    """
    m = entries.shape[0]
    size = m if resample_size is None else resample_size
    if n_boot < 1 or size < 1 or m < 1:
        raise ValueError(f"n_boot, resample_size and the number of examples must be positive; "
                         f"got n_boot={n_boot}, resample_size={resample_size}, {m} examples")
    draws = torch.randint(m, (n_boot, size), generator=torch.Generator().manual_seed(seed))
    counts = torch.zeros(n_boot, m, dtype=entries.dtype).scatter_add_(1, draws, torch.ones_like(draws, dtype=entries.dtype))
    return counts.to(entries.device) @ entries / size


def entry_statistics(replicates: torch.Tensor) -> dict[str, torch.Tensor]:
    """Per-entry statistics across bootstrap replicates (B, P), in float64 (Li Figs. 6-7).

    ``mean``, ``std`` (with Bessel's correction), ``skewness`` g1 = m3 / m2^{3/2} and ``excess_kurtosis``
    g2 = m4 / m2² - 3 (moment estimators, the ones the normal-theory tests of :func:`coupling_set_size` use), all of
    shape (P,), and ``correlation``, the (P, P) correlation-coefficient matrix of the entries (Li Figs. 6b-c).
    Entries that are constant across replicates up to rounding (e.g. of a dead neuron) have NaN skewness, kurtosis
    and correlations: these are undefined.
    """
    r = replicates.to(torch.float64)
    centred = r - r.mean(0)
    m2, m3, m4 = ((centred ** power).mean(0) for power in (2, 3, 4))
    constant = centred.abs().amax(0) <= 64 * torch.finfo(r.dtype).eps * r.abs().amax(0)
    undefined = torch.where(constant, torch.nan, 1.0)
    return {
        "mean": r.mean(0),
        "std": r.std(0),
        "skewness": undefined * m3 / m2 ** 1.5,
        "excess_kurtosis": undefined * (m4 / m2 ** 2 - 3),
        "correlation": undefined[:, None] * torch.corrcoef(r.T) * undefined[None, :],
    }


def coupling_set_size(replicates: torch.Tensor, alpha: float = 0.05,
                      n_effective: int | None = None) -> dict[str, torch.Tensor | float | int]:
    """Per entry, the number of other entries it is significantly correlated with: its coupling set size (Li
    Fig. 7c, supp. B G 7), and which entries have significantly non-zero skewness and excess kurtosis.

    Tests (normal theory, ``n`` = ``n_effective``, default the number of replicates B): a correlation r is non-zero
    when the Fisher z = atanh(r) sqrt(n - 3) rejects ρ = 0; skewness g1 and excess kurtosis g2 when g1 / sqrt(6/n)
    and g2 / sqrt(24/n) reject 0; all two-sided. The P(P-1)/2 correlation tests (and the P tests of each moment) are
    corrected together with Benjamini-Hochberg at false-discovery rate ``alpha``: the result is a *count* of
    discoveries, of which BH bounds the expected share of false ones, whereas Bonferroni's family-wise control
    would undercount more and more as P grows. Undefined statistics (constant entries) count as zero.

    The replicates' correlations estimate those of the per-example entries over the m examples, and more replicates
    cannot add information beyond them: for B > m pass ``n_effective=m``, or every tiny correlation turns significant.

    Returns ``coupling_set_size`` (P,), ``correlation_fraction`` (significant share of the P(P-1)/2 pairs),
    ``skewed`` and ``kurtotic`` (P,) booleans with their fractions ``skewness_fraction`` and ``kurtosis_fraction``,
    and ``n_entries`` (P), ``n_replicates`` (B), ``n_effective``. Li reports the counts as exponents of the Hessian
    dimension N (the number of weights): the chapter scales the fractions to N and converts.
    """
    b, n_entries = replicates.shape
    n = b if n_effective is None else n_effective
    if n <= 3 or n_entries < 2 or not 0 < alpha < 1:
        raise ValueError(f"need n_effective (default: replicates) > 3, at least 2 entries and 0 < alpha < 1; "
                         f"got n={n}, P={n_entries}, alpha={alpha}")
    moments = entry_statistics(replicates)
    a, c = torch.triu_indices(n_entries, n_entries, 1)
    r = moments["correlation"][a, c].cpu().numpy()
    with np.errstate(divide="ignore"):
        coupled = _discoveries(np.arctanh(np.clip(r, -1, 1)) * math.sqrt(n - 3), alpha)
    counts = torch.bincount(torch.cat([a[coupled], c[coupled]]), minlength=n_entries)
    skewed = _discoveries(moments["skewness"].cpu().numpy() / math.sqrt(6 / n), alpha)
    kurtotic = _discoveries(moments["excess_kurtosis"].cpu().numpy() / math.sqrt(24 / n), alpha)
    return {
        "coupling_set_size": counts,
        "correlation_fraction": float(coupled.mean()),
        "skewed": torch.from_numpy(skewed),
        "kurtotic": torch.from_numpy(kurtotic),
        "skewness_fraction": float(skewed.mean()),
        "kurtosis_fraction": float(kurtotic.mean()),
        "n_entries": n_entries,
        "n_replicates": b,
        "n_effective": n,
    }


def _discoveries(z: np.ndarray, alpha: float) -> np.ndarray:
    """Two-sided normal tests of the z-scores, Benjamini-Hochberg at level ``alpha``; NaN (undefined) never rejects."""
    p_values = np.where(np.isnan(z), 1.0, 2 * stats.norm.sf(np.abs(np.nan_to_num(z))))
    return stats.false_discovery_control(p_values, method="bh") <= alpha


# --- stochastic Lanczos quadrature (Li Fig. 8a, supp. H) ---------------------------------------------------------

def slq(matvec: Callable[[torch.Tensor], torch.Tensor], dim: int, steps: int, probes: int, seed: int = 0,
        dtype: torch.dtype = torch.float64, *, device: str | torch.device = "auto",
        progress: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Stochastic Lanczos quadrature of the spectrum of a symmetric operator (Li Fig. 8a, supp. H; Ghorbani et al.
    2019): Gauss quadrature ``(nodes, weights)``, each of shape (probes, steps).

    Each probe v is a Rademacher vector (CPU generator seeded by ``seed``), moved to ``device`` in ``dtype``, where
    the Lanczos vectors live and ``matvec`` is called. Lanczos runs ``steps`` steps with full re-orthogonalisation
    (classical Gram-Schmidt, repeated when it cancels most of the vector); the nodes are the Ritz values (the
    eigenvalues of the tridiagonal matrix) and the weights the squared first components of its eigenvectors, summing
    to 1 per probe, so that Σ w θ^j = vᵀA^j v / vᵀv for j ≤ 2·steps - 1. When the Krylov space becomes invariant
    (β ≤ sqrt(eps) times the largest |Aq| seen: a zero or low-rank operator, or ``steps`` above the rank) the probe
    ends early, without error, and the rest of its row is padded with nodes 0 and weights 0. Memory: ``steps``
    vectors of ``dim`` entries in ``dtype``.
    """
    if dim < 1 or steps < 1 or probes < 1:
        raise ValueError(f"dim, steps and probes must be positive; got dim={dim}, steps={steps}, probes={probes}")
    device = resolve_device(device)
    generator = torch.Generator().manual_seed(seed)
    nodes = torch.zeros(probes, steps, dtype=dtype, device=device)
    weights = torch.zeros(probes, steps, dtype=dtype, device=device)
    bar = progress_bar(total=probes * steps, desc="Lanczos", disable=not progress)
    for probe in range(probes):
        start = (2 * torch.randint(2, (dim,), generator=generator) - 1).to(device=device, dtype=dtype)
        alphas, betas = _lanczos(matvec, start, steps, bar)
        tridiagonal = torch.diag(alphas) + torch.diag(betas, 1) + torch.diag(betas, -1)
        ritz, vectors = torch.linalg.eigh(tridiagonal)
        nodes[probe, : len(ritz)], weights[probe, : len(ritz)] = ritz, vectors[0] ** 2
    bar.close()
    return nodes, weights


def _lanczos(matvec: Callable[[torch.Tensor], torch.Tensor], start: torch.Tensor, steps: int,
             bar) -> tuple[torch.Tensor, torch.Tensor]:
    """Diagonal α and off-diagonal β of the Lanczos tridiagonal matrix from ``start`` (see :func:`slq`).

    Vector updates are in place: on a CPU, fresh vectors of a large network cost as much as the arithmetic.
    """
    dim = len(start)
    tolerance = torch.finfo(start.dtype).eps ** 0.5
    basis = start.new_empty(min(steps, dim), dim)
    torch.div(start, start.norm(), out=basis[0])
    alphas, betas, scale = [], [], 0.0
    for step in range(len(basis)):
        q, previous = basis[step], basis[: step + 1]
        w = matvec(q).to(q)
        scale = max(scale, w.norm().item())
        alphas.append((q @ w).item())
        w.sub_(q, alpha=alphas[-1])  # the three-term recurrence ...
        if betas:
            w.sub_(basis[step - 1], alpha=betas[-1])
        # ... then full re-orthogonalisation against every Lanczos vector by classical Gram-Schmidt, repeated when it
        # removed most of w (the Daniel-Gragg-Kaufman-Stewart criterion, as in ARPACK): "twice is enough".
        for _ in range(2):
            before = w.norm()
            w.addmv_(previous.T, previous @ w, alpha=-1)
            if w.norm() >= 0.5 ** 0.5 * before:
                break
        bar.update(1)
        beta = w.norm().item()
        if step + 1 == len(basis) or beta <= tolerance * scale:
            break
        betas.append(beta)
        torch.div(w, beta, out=basis[step + 1])
    bar.update(steps - len(alphas))
    as_tensor = lambda values: torch.tensor(values, dtype=start.dtype, device=start.device)  # noqa: E731
    return as_tensor(alphas), as_tensor(betas)


def spectral_density(nodes: torch.Tensor, weights: torch.Tensor, grid: torch.Tensor, sigma: float) -> torch.Tensor:
    """Gaussian-smoothed spectral density on ``grid``: each probe's quadrature Σ_j w_j N(t; θ_j, σ²), averaged over
    probes (Li Fig. 8a). Integrates to 1 on a grid that covers the nodes by several ``sigma``."""
    if sigma <= 0:
        raise ValueError(f"sigma must be positive; got {sigma}")
    grid = grid.to(nodes)
    kernel = torch.exp(-0.5 * ((grid - nodes[..., None]) / sigma) ** 2) / (sigma * math.sqrt(2 * math.pi))
    return (weights[..., None] * kernel).sum(1).mean(0)


def spectral_moment(nodes: torch.Tensor, weights: torch.Tensor, j: int) -> torch.Tensor:
    """Σ w θ^j averaged over probes: an estimate of tr(A^j)/dim (exact per probe as vᵀA^j v/vᵀv for j ≤ 2 steps - 1)."""
    return (weights * nodes ** j).sum(1).mean(0)


def negative_mass(nodes: torch.Tensor, weights: torch.Tensor, threshold: float = 0.0) -> torch.Tensor:
    """Quadrature mass on θ < -``threshold``, averaged over probes: the estimated share of negative eigenvalues."""
    return (weights * (nodes < -threshold)).sum(1).mean(0)
