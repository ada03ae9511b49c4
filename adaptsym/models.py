"""Bias-free ReLU networks and the hinge risk they are trained with (Li §II.2-II.3, §II.7).

Li studies feedforward ReLU networks *without biases* doing binary classification with a single
output neuron T(x), trained on the hinge risk R = E[max(0, 1 - Y T(X))] (Li eq. 12). Without
biases, T(x) is a sum over input-to-output paths of x_{i_0} times products of weights and ReLU gates
(the basis circuits of Li eqs. 10-11), so T is positively homogeneous: T(c x) = c T(x) for c > 0.
Weights start from a symmetric prior (Li §II.2: "the law of weight matrices are symmetric at
initialization"); here the He/Kaiming normal law N(0, 2/fan_in), with N(0, 1/fan_in) for the
output layer, which has no ReLU after it.
"""

from collections.abc import Sequence

import torch
from torch import nn

from adaptsym.device import resolve_device


def relu_mlp(
    widths: Sequence[int],
    *,
    seed: int = 0,
    dtype: torch.dtype = torch.float32,
    device: str | torch.device = "auto",
) -> nn.Sequential:
    """Bias-free ReLU multilayer perceptron T: R^{d_in} -> R^{d_out} (Li §II.2, §II.7).

    ``widths = [d_in, h_1, ..., h_{L-1}, d_out]``. The result is exactly
    ``Linear(bias=False), ReLU(), ..., Linear(bias=False)`` (no ReLU after the last layer), the
    structure that the circuit enumeration of Li eq. 10 walks through. Inputs are ``N x d_in``
    (flatten images first). Weights are drawn with a ``torch.Generator`` seeded by ``seed``.
    """
    widths = [int(w) for w in widths]
    if len(widths) < 2 or min(widths) < 1:
        raise ValueError(f"widths must list at least [d_in, d_out], all positive; got {widths}")
    layers: list[nn.Module] = []
    for fan_in, fan_out in zip(widths[:-1], widths[1:]):
        layers += [nn.utils.skip_init(nn.Linear, fan_in, fan_out, bias=False, dtype=dtype), nn.ReLU()]
    return _symmetric_prior(nn.Sequential(*layers[:-1]), seed).to(resolve_device(device))


def mlp_linears(model: nn.Module) -> list[nn.Linear]:
    """The Linear layers of a bias-free ReLU MLP shaped like :func:`relu_mlp`; ValueError for anything else.

    Everything that walks paths or gates layer by layer (circuits, gate laws) relies on this structure.
    """
    expected = "nn.Sequential(Linear(bias=False), ReLU(), ..., ReLU(), Linear(bias=False))"
    if not isinstance(model, nn.Sequential) or len(model) % 2 == 0:
        raise ValueError(f"expected a bias-free ReLU MLP {expected}; got {model}")
    for position, module in enumerate(model):
        kind = nn.Linear if position % 2 == 0 else nn.ReLU
        if not isinstance(module, kind) or getattr(module, "bias", None) is not None:
            raise ValueError(f"expected a bias-free ReLU MLP {expected}; module {position} is {module}"
                             " (a bias-free CNN can be unrolled with adaptsym.circuits.unroll_conv)")
    return list(model[::2])


def vgg_cnn(
    in_channels: int,
    channels: Sequence[int],
    image_size: int,
    d_out: int = 1,
    *,
    convs_per_block: int | Sequence[int] = 1,
    pooling: bool = True,
    seed: int = 0,
    dtype: torch.dtype = torch.float32,
    device: str | torch.device = "auto",
) -> nn.Sequential:
    """Bias-free VGG-style CNN, as in Li's experiments (Li §I, fig. 8; a VGGNet without biases).

    One block per entry of ``channels``: ``convs_per_block`` times (one count for all blocks, or one
    per block) ``Conv2d(3x3, padding=1, bias=False) + ReLU`` with that many output channels, then
    ``MaxPool2d(2)`` (omitted with ``pooling=False``, which leaves a network that unrolls exactly into
    an MLP). After the blocks
    come ``Flatten`` and a bias-free ``Linear`` to ``d_out``. A CNN is an MLP with sparse, shared
    weights (Li §II.7), so the network stays positively homogeneous. Inputs are
    ``N x in_channels x image_size x image_size``.
    """
    channels = [int(c) for c in channels]
    convs = ([int(convs_per_block)] * len(channels) if isinstance(convs_per_block, int)
             else [int(c) for c in convs_per_block])
    if len(convs) != len(channels):
        raise ValueError(f"convs_per_block must be one count or one per block ({len(channels)}); "
                         f"got {convs_per_block}")
    if in_channels < 1 or d_out < 1 or min(convs, default=0) < 1 or not channels or min(channels) < 1:
        raise ValueError(
            "in_channels, d_out, convs_per_block and every entry of channels must be positive, "
            f"with at least one block; got in_channels={in_channels}, channels={channels}, "
            f"d_out={d_out}, convs_per_block={convs_per_block}"
        )
    side = image_size // 2 ** len(channels) if pooling else image_size
    if side < 1:
        raise ValueError(
            f"image_size={image_size} is too small for {len(channels)} MaxPool2d(2) blocks: "
            f"it must be at least {2 ** len(channels)}"
        )
    layers: list[nn.Module] = []
    c_in = in_channels
    for c_out, n_convs in zip(channels, convs):
        for _ in range(n_convs):
            conv = nn.utils.skip_init(nn.Conv2d, c_in, c_out, 3, padding=1, bias=False, dtype=dtype)
            layers += [conv, nn.ReLU()]
            c_in = c_out
        layers += [nn.MaxPool2d(2)] if pooling else []
    head = nn.utils.skip_init(nn.Linear, c_in * side * side, d_out, bias=False, dtype=dtype)
    layers += [nn.Flatten(), head]
    return _symmetric_prior(nn.Sequential(*layers), seed).to(resolve_device(device))


def _symmetric_prior(net: nn.Sequential, seed: int) -> nn.Sequential:
    """Draw every weight from N(0, 2/fan_in), the last layer from N(0, 1/fan_in) (He init).

    Draws happen on the CPU from one generator, so a seed gives the same weights on every device
    and the global torch RNG is left untouched.
    """
    generator = torch.Generator().manual_seed(seed)
    weighted = [m for m in net if isinstance(m, (nn.Linear, nn.Conv2d))]
    with torch.no_grad():
        for layer in weighted:
            gain = "linear" if layer is weighted[-1] else "relu"
            nn.init.kaiming_normal_(layer.weight, nonlinearity=gain, generator=generator)
    return net


def scores(output: torch.Tensor) -> torch.Tensor:
    """The single output neuron T(x) as a vector of shape (N,), from an (N, 1) or (N,) output."""
    if output.ndim == 2 and output.shape[1] == 1:
        return output[:, 0]
    if output.ndim != 1:
        raise ValueError(
            f"binary classification needs one output neuron, shape (N, 1) or (N,); got {tuple(output.shape)}"
        )
    return output


def _scores_and_labels(output: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """T(x) as (N,) and the labels, after checking that y has shape (N,) and values in {-1, +1}."""
    t = scores(output)
    if y.shape != t.shape:
        raise ValueError(f"labels must have shape {tuple(t.shape)} to match the outputs; got {tuple(y.shape)}")
    if not torch.all((y == 1) | (y == -1)):
        raise ValueError("labels must be in {-1, +1}; map 0/1 labels with y = 2*y - 1")
    return t, y


def hinge_risk_per_example(output: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-example hinge loss max(0, 1 - y T(x)), shape (N,), for labels y in {-1, +1} (Li eq. 12)."""
    t, y = _scores_and_labels(output, y)
    return torch.clamp(1 - y * t, min=0)


def hinge_loss(output: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Empirical hinge risk: the mean over examples of max(0, 1 - y T(x)) (Li eq. 12)."""
    return hinge_risk_per_example(output, y).mean()


def accuracy(output: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Fraction of examples with sign(T(x)) == y; T(x) = 0 counts as wrong."""
    t, y = _scores_and_labels(output, y)
    return (torch.sign(t) == y).to(t.dtype).mean()


def margins(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Margins y T(x), shape (N,); the hinge loss is active where the margin is below 1 (Li eq. 12).

    Gradients flow through if grad mode is on; wrap the call in ``torch.no_grad()`` to only measure.
    """
    t, y = _scores_and_labels(model(x), y)
    return y * t


def relu_pre_activations(model: nn.Sequential, x: torch.Tensor) -> list[torch.Tensor]:
    """Pre-activations (one tensor (inputs, units) per layer) ``z_l`` of every gate layer l = 1..L-1 along the deterministic ReLU forward pass."""
    zs, activation = [], x
    for linear in mlp_linears(model)[:-1]:
        zs.append(linear(activation))
        activation = torch.relu(zs[-1])
    return zs


def count_weights(widths: Sequence[int]) -> int:
    """Number of weights of a bias-free MLP with ``widths`` [n_0, ..., n_L]: Σ_l n_{l-1} n_l (675 for Zou & Huang's
    20-15-15-10; Li's hierarchical multipliers of eq. 4 are the same count)."""
    return sum(int(a) * int(b) for a, b in zip(widths[:-1], widths[1:]))


def count_parameters(model: nn.Module) -> int:
    """Number of trainable weights of ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
