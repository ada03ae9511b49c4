"""Moments of assemblies over random initialisations: Li eq. 20 measured (Li §II.6.4).

An *assembly* of order k is a sum of basis circuits (k = 0) or of their k-th order perturbations (Li eqs. 16,
19): for one input x, k = 0 is the output T(x), k = 1 a gradient entry dT/dw and k = 2 a Hessian entry
d^2T/dw dw' (gates held fixed, as autograd does away from kinks). Li eq. 20 bounds, over the law of the weights,

    E[A] <= O((c^2/2)^L + c^L / sqrt(n)^{L mu}),    E[A^2] <= O(c^{2L} + (c^2/2)^{2L} + c^{2L} / sqrt(n)^{2L mu}),

when sqrt(n)^{1-mu} weights per layer have broken (non-symmetric) laws, so the *normalised mean*
|E[A]| / sqrt(E[A^2]) should decay with depth L. This module draws ensembles of bias-free ReLU MLPs with widths
[d_in] + [n] * (L - 1) + [1] (L weight layers, Li §II.2) under three laws of the weights (``INIT_LAWS``):

- ``"symmetric"``: He normal as :func:`adaptsym.models.relu_mlp` draws it, N(0, sigma_l^2) with
  sigma_l^2 = 2 / fan_in, and 1 / fan_in for the readout (the last layer);
- ``"broken"``: the same, but in every layer ``broken_count(n, mu)`` = round(sqrt(n)^{1-mu}) weights have mean
  shift * sigma_l (eq. 20's hypothesis). Which weights is drawn anew for every network, uniformly: the law of a
  network with that many broken weights per layer, wherever they are. (Fixing the places for the whole ensemble
  would make the mean of a *particular* gradient or Hessian entry depend on whether its few paths happen to meet
  them, a lottery that changes from one depth to the next.);
- ``"shifted"``: every weight N(shift * sigma_l, sigma_l^2), the symmetry broken everywhere.

All three laws transform the same standard normals (common random numbers), so their differences are not noise.

Which assemblies (weights in paper notation w^l_{ij}, neuron i of layer l-1 to neuron j of layer l):

- k = 0: T(x);
- k = 1: dT/dw^1_{00}, a first-layer weight, whose perturbation passes through every layer above it;
- k = 2: d^2T/dw^1_{00} dw^{L-1}_{00}, first and penultimate layer, which share the paths through neuron 0 of
  layer 1 and neuron 0 of layer L-2 (depth >= 3).

Under the symmetric law E[A] = 0 exactly for these: flipping the sign of the readout preserves the law and maps
A to -A, because T is linear in the readout and no differentiated weight lies in it. (A Hessian entry with one
weight in the readout does not depend on the readout at all, so that argument fails for it: its mean under the
symmetric law is a gate effect and is not zero.) Hence depth >= k + 1 (``min_depth``).

Cost: one forward pass gives every depth, order and law. A depth-L network is the first L - 1 layers of a shared
*trunk* plus its own readout; each depth's networks have exactly the law above (samples are correlated across
depths, not within one). k = 1 is forward-mode differentiation along w^1_{00}, carried up the trunk beside the
activations, which gives dT_L/dw^1_{00} for every L at once; k = 2 is the reverse-mode (autograd) gradient of that
derivative with respect to a zero-valued perturbation of w^{L-1}_{00}. The networks are independent, so gradients
of sums over networks are per-network gradients. Random numbers come from one generator per block of ``BLOCK``
networks and per layer, on the computing device: results do not depend on ``chunk`` or on which depths, orders
and laws are asked for together, but CPU and CUDA give different (equally distributed) draws. On two CPU cores
the standard normals are most of the cost: width^2 per hidden layer and network.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch

from adaptsym.device import resolve_device
from adaptsym.progress import progress_bar

INIT_LAWS = ("symmetric", "broken", "shifted")
ORDERS = (0, 1, 2)
BLOCK = 64
"""Networks per random-number stream: the unit that makes draws independent of ``chunk``."""

_TRUNK, _READOUT = 0, 1


def min_depth(order: int) -> int:
    """The smallest depth L with an order-``order`` assembly of zero symmetric mean: L = k + 1 (module docstring)."""
    _check_order(order)
    return order + 1


def broken_count(width: int, mu: float) -> int:
    """Weights per layer with a broken law under ``"broken"``: round(sqrt(n)^{1-mu}) (Li eq. 20's hypothesis)."""
    if width < 1 or not mu > 0:
        raise ValueError(f"width must be positive and mu > 0 (Li eq. 20); got width={width}, mu={mu}")
    return round(math.sqrt(width) ** (1 - mu))


def network_weights(
    depth: int,
    width: int,
    d_in: int,
    n_networks: int,
    init_law: str = "symmetric",
    *,
    shift: float = 1.0,
    mu: float = 0.5,
    seed: int = 0,
    dtype: torch.dtype = torch.float64,
    device: str | torch.device = "auto",
) -> list[torch.Tensor]:
    """The weights of the networks that :func:`assembly_samples` draws, layer by layer.

    W^l of shape (n_networks, n_{l-1}, n_l) in paper orientation (``linear_l.weight`` is ``W^l[m].T``), widths
    [d_in] + [width] * (depth - 1) + [1]. Layers 1..depth-1 are the shared trunk, the last one depth's readout.
    """
    _check_sizes(depth, width, d_in, n_networks, seed)
    _check_law(init_law)
    device = resolve_device(device)
    draw = dict(width=width, d_in=d_in, start=0, n=n_networks, mu=mu, seed=seed)

    def weights(kind: int, layer: int) -> torch.Tensor:
        fan_in, fan_out = (d_in if layer == 1 else width), (1 if kind == _READOUT else width)
        buffer = torch.empty(n_networks * fan_in * fan_out, dtype=dtype, device=device)
        normals, positions, sigma = _standard_normals(kind, layer, **draw, buffer=buffer)
        identity = torch.eye(fan_in, dtype=dtype, device=device).expand(n_networks, 1, fan_in, fan_in)
        return _layer(identity, [init_law], shift, normals, positions, sigma)[:, 0]  # W = I W

    layers = [weights(_TRUNK, layer) for layer in range(1, depth)]
    readout = weights(_READOUT, depth)
    return layers + [readout]


def assembly_samples(
    depth: int,
    width: int,
    x: torch.Tensor,
    order: int,
    n_networks: int,
    init_law: str = "symmetric",
    *,
    shift: float = 1.0,
    mu: float = 0.5,
    seed: int = 0,
    chunk: int = 512,
    dtype: torch.dtype = torch.float64,
    device: str | torch.device = "auto",
) -> torch.Tensor:
    """The order-``order`` assembly at the input ``x`` (shape (d_in,)) in each of ``n_networks`` random networks.

    Shape (n_networks,): T(x), dT/dw^1_{00} or d^2T/dw^1_{00} dw^{depth-1}_{00} (k = 0, 1, 2; module docstring)
    of depth-``depth``, width-``width`` networks drawn from ``init_law`` (one of ``INIT_LAWS``); the networks are
    those of :func:`network_weights`. ``chunk`` networks are computed at a time (memory ~ chunk * width^2).
    """
    _check_order(order)
    if 1 <= depth < min_depth(order):
        raise ValueError(f"order {order} needs depth >= {min_depth(order)} (its weights lie below the readout, "
                         f"in distinct layers); got depth {depth}")
    return _sample([depth], width, x, n_networks, [init_law], [order], shift, mu, seed, chunk, dtype, device)[0, 0, 0]


class NormalisedMean(NamedTuple):
    """|E[A]| / sqrt(E[A^2]) estimated from samples, its standard error, and the noise floor of a zero mean."""

    value: float
    standard_error: float
    noise_floor: float


def normalised_mean(samples: torch.Tensor | np.ndarray) -> NormalisedMean:
    """|mean| / sqrt(mean of squares) of the samples of an assembly (the ratio eq. 20 makes small).

    The standard error is the delta method's: the gradient of |m1| / sqrt(m2) applied to the sample covariance
    of (A, A^2) over M samples. The noise floor sqrt(2 / pi) / sqrt(M) is the expected value of the estimate when
    E[A] = 0 (then mean / rms is about N(0, 1/M)), the level the symmetric law's estimates sit at.
    """
    a = torch.as_tensor(samples).detach().cpu().to(torch.float64).numpy().reshape(-1)
    if a.size < 2 or not np.all(np.isfinite(a)):
        raise ValueError(f"need at least 2 finite samples; got {a.size} with {np.sum(~np.isfinite(a))} non-finite")
    m1, m2 = a.mean(), np.mean(a * a)
    if m2 == 0:
        raise ValueError("all samples are zero: the normalised mean is undefined")
    gradient = np.array([math.copysign(1.0, m1) / math.sqrt(m2), -abs(m1) / (2 * m2 ** 1.5)])
    covariance = np.cov(np.stack([a, a * a])) / a.size
    standard_error = math.sqrt(max(float(gradient @ covariance @ gradient), 0.0))
    return NormalisedMean(abs(m1) / math.sqrt(m2), standard_error, math.sqrt(2 / math.pi / a.size))


@dataclass(frozen=True)
class AssemblyGrid:
    """Normalised means over (init law, order, depth, width); NaN where depth < ``min_depth(order)``.

    ``rms`` is sqrt(E[A^2]): its growth per layer, ``fit_depth_decay(depths, rms).rate``, estimates eq. 20's c.
    """

    init_laws: tuple[str, ...]
    orders: tuple[int, ...]
    depths: tuple[int, ...]
    widths: tuple[int, ...]
    value: np.ndarray
    standard_error: np.ndarray
    rms: np.ndarray
    noise_floor: float


def normalised_mean_grid(
    depths: Sequence[int],
    widths: Sequence[int],
    orders: Sequence[int],
    init_laws: str | Sequence[str],
    x: torch.Tensor,
    n_networks: int,
    *,
    shift: float = 1.0,
    mu: float = 0.5,
    seed: int = 0,
    chunk: int = 512,
    dtype: torch.dtype = torch.float32,
    device: str | torch.device = "auto",
    progress: bool = True,
) -> AssemblyGrid:
    """:func:`normalised_mean` of :func:`assembly_samples` for every (init law, order, depth, width) (Li eq. 20).

    One trunk per width serves every depth and order, one draw of standard normals every law, so a grid costs
    about one forward pass of the deepest network per width and law. Each cell equals what
    ``assembly_samples`` gives for it with the same seed, dtype and device.
    """
    laws = [init_laws] if isinstance(init_laws, str) else list(init_laws)
    depths, widths, orders = [int(d) for d in depths], [int(w) for w in widths], [int(k) for k in orders]
    if not depths or not widths or not orders or not laws:
        raise ValueError("depths, widths, orders and init_laws must each name at least one value")
    shape = (len(laws), len(orders), len(depths), len(widths))
    value, error, rms = np.full(shape, np.nan), np.full(shape, np.nan), np.full(shape, np.nan)
    with progress_bar(total=len(widths) * n_networks, desc="eq. 20 assemblies", unit="network",
                      disable=not progress) as bar:
        for w, width in enumerate(widths):
            samples = _sample(depths, width, x, n_networks, laws, orders, shift, mu, seed, chunk, dtype, device, bar)
            for law, k, d in np.ndindex(shape[:3]):
                if depths[d] >= min_depth(orders[k]):
                    cell = samples[law, k, d]
                    value[law, k, d, w], error[law, k, d, w], _ = normalised_mean(cell)
                    rms[law, k, d, w] = cell.double().pow(2).mean().sqrt().item()
    floor = math.sqrt(2 / math.pi / n_networks)
    return AssemblyGrid(tuple(laws), tuple(orders), tuple(depths), tuple(widths), value, error, rms, floor)


class DepthDecay(NamedTuple):
    """value ~ prefactor * rate^L, the least-squares line of log(value) against L."""

    rate: float
    prefactor: float


def fit_depth_decay(depths: Sequence[float], values: Sequence[float]) -> DepthDecay:
    """Fit value = a * r^L by least squares on log(value) = log(a) + L log(r); rate r < 1 means decay."""
    depths, values = np.asarray(depths, dtype=float), np.asarray(values, dtype=float)
    if depths.shape != values.shape or depths.ndim != 1 or np.unique(depths).size < 2:
        raise ValueError(f"need matching 1-d depths and values with at least 2 distinct depths; "
                         f"got shapes {depths.shape} and {values.shape}")
    if not np.all(np.isfinite(values) & (values > 0)):
        raise ValueError(f"values must be positive and finite to fit a * r^L on a log scale; got {values}")
    slope, intercept = np.polyfit(depths, np.log(values), 1)
    return DepthDecay(math.exp(slope), math.exp(intercept))


class BoundShapes(NamedTuple):
    """The terms of Li eq. 20's bound on E[A], each divided by the square root of the bound on E[A^2]."""

    symmetric: np.ndarray
    broken: np.ndarray
    total: np.ndarray


def bound_shapes(depths: Sequence[int], width: int, mu: float, c: float = 1.0) -> BoundShapes:
    """Shapes in L of eq. 20's normalised-mean bound: (c^2/2)^L / D, c^L / sqrt(n)^{L mu} / D and their sum,
    with D = sqrt(c^{2L} + (c^2/2)^{2L} + c^{2L} / sqrt(n)^{2L mu}).

    Eq. 20 holds up to constants, so only the shapes compare with measurements. c is the per-layer gain of the
    assemblies; He initialisation keeps E[T(x)^2] = |x|^2 / d_in at every depth, i.e. c = 1 (Li: "close to 1
    through initialization"), which the measured ``AssemblyGrid.rms`` checks.
    """
    if width < 1 or not mu > 0 or not c > 0:
        raise ValueError(f"width must be positive, mu > 0 and c > 0; got width={width}, mu={mu}, c={c}")
    depth = np.asarray(depths, dtype=float)
    symmetric, broken = (c * c / 2) ** depth, c ** depth / math.sqrt(width) ** (depth * mu)
    scale = np.sqrt(c ** (2 * depth) + symmetric ** 2 + broken ** 2)
    return BoundShapes(symmetric / scale, broken / scale, (symmetric + broken) / scale)


def _sample(
    depths: list[int],
    width: int,
    x: torch.Tensor,
    n_networks: int,
    laws: list[str],
    orders: list[int],
    shift: float,
    mu: float,
    seed: int,
    chunk: int,
    dtype: torch.dtype,
    device: str | torch.device,
    bar=None,
) -> torch.Tensor:
    """Assemblies of shape (len(laws), len(orders), len(depths), n_networks); NaN where depth < min_depth(order)."""
    device = resolve_device(device)
    x = torch.as_tensor(x).to(dtype=dtype, device=device)
    if x.ndim != 1:
        raise ValueError(f"x must be one input of shape (d_in,); got shape {tuple(x.shape)}")
    for law in laws:
        _check_law(law)
    for order in orders:
        _check_order(order)
    for depth in depths:
        _check_sizes(depth, width, x.shape[0], n_networks, seed)
    if len(set(depths)) < len(depths) or len(set(orders)) < len(orders) or len(set(laws)) < len(laws):
        raise ValueError(f"depths, orders and init_laws must not repeat; got {depths}, {orders}, {laws}")
    if chunk < 1 or not math.isfinite(shift) or not mu > 0:
        raise ValueError(f"chunk must be positive, shift finite and mu > 0 (Li eq. 20); "
                         f"got chunk={chunk}, shift={shift}, mu={mu}")
    out = torch.full((len(laws), len(orders), len(depths), n_networks), torch.nan, dtype=dtype, device=device)
    step = math.ceil(chunk / BLOCK) * BLOCK
    for start in range(0, n_networks, step):
        stop = min(start + step, n_networks)
        _sample_chunk(out[..., start:stop], depths, width, x, laws, orders, shift, mu, seed, start)
        if bar is not None:
            bar.update(stop - start)
    return out


def _sample_chunk(out, depths, width, x, laws, orders, shift, mu, seed, start) -> None:
    """Fill ``out`` (laws, orders, depths, networks from ``start``) in one pass up the shared trunk.

    Each network carries, per law, two rows through the layers: its activations a^l and their derivative da^l
    along w^1_{00} (forward-mode differentiation: dz^l = da^{l-1} W^l, plus x_0 at z^1_0; da^l = h^l dz^l with
    the gates h^l held fixed). One bmm with the standard normals G moves the rows of every law, and each law adds
    its mean part (:func:`_add_mean`), so W^l is never formed. torch's own forward mode
    (``torch.autograd.forward_ad``) gives the same numbers, but its batched matmul falls back to a loop over
    networks on the CPU, 10-80 times slower (measured). The reverse-mode leaf eps_l (l >= 2, value 0) perturbs
    w^l_{00}: it adds eps_l a^{l-1}_0 to z^l_0 and eps_l da^{l-1}_0 to its derivative (one leaf per network and
    law), so the gradient of dT_{l+1}/dw^1_{00} with respect to it is depth l + 1's k = 2 entry. Each trunk layer
    starts from rows cut from the graph, so a backward pass crosses one layer and a readout.
    """
    n, d_in, dtype, device = out.shape[-1], x.shape[0], x.dtype, x.device
    one_hot = torch.zeros(width, dtype=dtype, device=device)
    one_hot[0] = 1
    largest = max(d_in * width, width * width) if max(depths) > 1 else d_in
    draw = dict(width=width, d_in=d_in, start=start, n=n, mu=mu, seed=seed,
                buffer=torch.empty(n * largest, dtype=dtype, device=device))
    rows = torch.stack([x.expand(n, d_in), torch.zeros(n, d_in, dtype=dtype, device=device)], dim=1)
    rows = rows[:, None].expand(n, len(laws), 2, d_in)  # (networks, laws, [a, da], fan_in)
    eps = None
    for layer in range(1, max(depths) + 1):
        if layer in depths:
            readout = _layer(rows, laws, shift, *_standard_normals(_READOUT, layer, **draw))
            output, derivative = readout[..., 0].unbind(dim=2)
            _record(out[:, :, depths.index(layer)], orders, layer, output, derivative, eps)
        if layer == max(depths):
            return
        rows = rows.detach()
        z = _layer(rows, laws, shift, *_standard_normals(_TRUNK, layer, **draw))
        if layer == 1:
            z[:, :, 1] += x[0] * one_hot
        elif 2 in orders:
            eps = torch.zeros(n, len(laws), 1, 1, dtype=dtype, device=device, requires_grad=True)
            z = z + eps * rows[..., :1] * one_hot
        rows = z * (z[:, :, :1] > 0)


def _layer(rows, laws, shift, normals, positions, sigma) -> torch.Tensor:
    """rows W for every law at once: sigma (rows G) + sigma shift (rows B_law); shape (n, laws, r, fan_out)."""
    n, n_laws, r, fan_in = rows.shape
    z = torch.bmm(rows.reshape(n, n_laws * r, fan_in), normals).mul_(sigma).view(n, n_laws, r, -1)
    for law, name in enumerate(laws):
        _add_mean(z[:, law], rows[:, law], name, positions, sigma * shift)
    return z


def _add_mean(z, rows, law, positions, scale) -> None:
    """z += scale * rows B in place, B the law's 0/1 mask of shifted weights (n, fan_in, fan_out).

    B = 0 (symmetric), 1 at ``positions`` (broken; flat indices i * fan_out + j), 1 everywhere (shifted).
    """
    if law == "shifted":
        z += scale * rows.sum(-1, keepdim=True)
    elif law == "broken":
        fan_out = z.shape[-1]
        inputs = (positions // fan_out)[:, None, :].expand(-1, rows.shape[1], -1)
        outputs = (positions % fan_out)[:, None, :].expand(-1, rows.shape[1], -1)
        z.scatter_add_(2, outputs, scale * rows.gather(2, inputs))


def _record(out, orders, depth, output, derivative, eps) -> None:
    """Write T_L, dT_L/dw^1_{00} and d^2T_L/dw^1_{00}dw^{L-1}_{00} (L = ``depth``) into ``out`` (laws, orders, n).

    ``output`` and ``derivative`` are (n, laws); ``derivative`` is in the graph of ``eps`` (n, laws, 1, 1), the
    leaves perturbing w^{L-1}_{00} of every network and law.
    """
    for row, order in enumerate(orders):
        if depth < min_depth(order):
            continue
        if order == 2:
            entry = torch.autograd.grad(derivative.sum(), eps)[0].reshape(eps.shape[:2])
        else:
            entry = (output if order == 0 else derivative).detach()
        out[:, row] = entry.T


def _standard_normals(kind, layer, *, width, d_in, start, n, mu, seed, buffer):
    """Standard normals G of W^layer for networks start..start+n, the broken places, and the layer's sigma.

    ``kind`` is ``_TRUNK`` (hidden layer ``layer``) or ``_READOUT`` (the last layer of depth ``layer``); sigma^2 is
    2 / fan_in, or 1 / fan_in for a readout (He init). One stream per (seed, width, d_in, kind, layer, block of
    BLOCK networks), on ``buffer``'s device; ``start`` is a multiple of BLOCK. The places (``broken_count`` per
    network, distinct) come after the normals in each stream, so the normals do not depend on mu.
    """
    fan_in = d_in if layer == 1 else width
    fan_out = 1 if kind == _READOUT else width
    sigma = math.sqrt((1 if kind == _READOUT else 2) / fan_in)
    count = min(broken_count(width, mu), fan_in * fan_out)
    normals = buffer[: n * fan_in * fan_out].view(n, fan_in, fan_out)
    positions = torch.empty(n, count, dtype=torch.long, device=buffer.device)
    for first in range(0, n, BLOCK):
        block = slice(first, min(first + BLOCK, n))
        generator = _generator([seed, width, d_in, kind, layer, (start + first) // BLOCK], buffer.device)
        normals[block].normal_(generator=generator)
        positions[block] = _distinct_positions(block.stop - first, fan_in * fan_out, count, generator)
    return normals, positions, sigma


def _distinct_positions(n: int, size: int, count: int, generator: torch.Generator) -> torch.Tensor:
    """``count`` distinct indices in 0..size-1 per row, uniformly over subsets, shape (n, count).

    Rejection: uniform tuples, redrawing rows with a repeat, are uniform over tuples of distinct indices. With
    count ~ sqrt(width) << size a repeat is rare, whereas a random permutation per network would cost ``size``
    random numbers per network, as much as drawing its weights.
    """
    device = generator.device
    positions = torch.randint(size, (n, count), generator=generator, device=device)
    while True:
        ordered = positions.sort(dim=1).values
        repeated = (ordered[:, 1:] == ordered[:, :-1]).any(dim=1)
        if not repeated.any():
            return positions
        positions[repeated] = torch.randint(size, (int(repeated.sum()), count), generator=generator, device=device)


def _generator(key: list[int], device: torch.device) -> torch.Generator:
    """A generator on ``device`` seeded from ``key`` through numpy's SeedSequence (independent streams)."""
    state = np.random.SeedSequence([int(k) for k in key]).generate_state(1, np.uint64)[0]
    return torch.Generator(device=device).manual_seed(int(state))


def _check_law(init_law: str) -> None:
    if init_law not in INIT_LAWS:
        raise ValueError(f"unknown init_law {init_law!r}; choose one of {', '.join(INIT_LAWS)}")


def _check_order(order: int) -> None:
    if order not in ORDERS:
        raise ValueError(f"order must be one of {ORDERS} (output, gradient entry, Hessian entry); got {order}")


def _check_sizes(depth: int, width: int, d_in: int, n_networks: int, seed: int) -> None:
    if depth < 1 or width < 1 or d_in < 1 or n_networks < 1 or seed < 0:
        raise ValueError(f"depth, width, d_in and n_networks must be positive and seed >= 0; "
                         f"got {depth}, {width}, {d_in}, {n_networks}, seed={seed}")
