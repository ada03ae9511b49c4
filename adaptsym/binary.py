"""Mean-field binary networks of Zou & Huang and batched ensembles of them.

Zou & Huang (§II, appendix A) collect weight configurations w = ±1 of a bias-free network
(20-15-15-10 on PCA-20 MNIST; 20-10 for the shallow case) that classify well, and fit an Ising
model to them. The weights are trained through their *fields*: each weight is an independent
binary variable with P(w = +1) = sigmoid(theta) (eqs. 1, 9), of mean mu = 2 sigmoid(theta) - 1
and variance 1 - mu^2 (eqs. 2a-2b). By the local reparameterisation trick (Kingma et al., their
ref. 34; Shayer et al., ref. 29) the pre-activation of unit i is Gaussian,

    h_i = sum_j mu_ij a_j + eps_i sqrt(sum_j (1 - mu_ij^2) a_j^2),   eps_i ~ N(0, 1)

(eqs. 3a, 10a), and the next activation is a_i = LeakyReLU_{0.1}(h_i) / sqrt(N), where N is the
fan-in of the layer that produced h (eqs. 3b, 10b; "a scaling factor to eliminate the
layer-width dependence of the activation"). As in the authors' reference code
(github.com/ZouWenXuan/Liquid-like-deep-learning, ``model/NeuralNetwork/BNN.py``) the factor
multiplies the *output* of the LeakyReLU of every hidden layer; the inputs are not rescaled and
the output pre-activations go unscaled into the softmax. eps is drawn once per minibatch and kept
for the backward pass (appendix A); softmax cross-entropy, Adam, minibatches of 200 and an L2
penalty 1e-5 on theta (appendix D). Autograd computes the gradients of eqs. 11-13. A trained
network is turned into deterministic binary networks by drawing w from the fields.

The same machinery trains *ensembles*: E networks at once as one batched tensor computation,
every parameter a tensor (E, out, in). Network k draws its initial fields, its minibatch order and
its noise eps from its own ``torch.Generator``, seeded by ``network_seeds(seed, E)[k]``, so it is
the network that ``train_single`` trains with that seed (up to float rounding). With
``weights="real"`` the same trainer fits the real-valued counterpart of appendix F (same
architecture, activation, loss and optimiser; weights instead of fields).

Configurations are flattened in one fixed order (``flatten_configurations``): the PyTorch (out, in) matrices, row-major,
layer by layer; for 20-15-15-10 that is LB = W1 -> 0-299, ITR = W2 -> 300-524, RB = W3 -> 525-674.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from adaptsym.checks import check_choice
from adaptsym.device import as_generator, resolve_device
from adaptsym.models import count_weights
from adaptsym.progress import progress_bar

LEAKY_SLOPE = 0.1
THETA_INIT_STD = 0.1
REAL_INIT_STD = 1.0
REGIONS = ("LB", "ITR", "RB", "FULL")
WEIGHT_KINDS = ("binary", "real")
DEFAULT_LR = {"binary": 0.3, "real": 0.01}
_EVAL_ELEMENTS = 2**22


def check_widths(widths: Sequence[int]) -> tuple[int, ...]:
    """``widths`` as a tuple of ints; ValueError unless it lists at least [d_in, d_out], all positive."""
    checked = tuple(int(w) for w in widths)
    if len(checked) < 2 or min(checked) < 1:
        raise ValueError(f"widths must list at least [d_in, d_out], all positive, e.g. (20, 15, 15, 10); "
                         f"got {list(widths)}")
    return checked


def layer_shapes(widths: Sequence[int]) -> list[tuple[int, int]]:
    """The (out, in) shape of each weight matrix, input layer first."""
    widths = check_widths(widths)
    return list(zip(widths[1:], widths[:-1]))


def region_slices(widths: Sequence[int]) -> dict[str, slice]:
    """Index ranges of the regions of Zou & Huang (fig. 1, §III) in a flattened configuration.

    LB is the first matrix, RB the last, ITR the matrices in between and FULL everything. For
    20-15-15-10: LB 0-299, ITR 300-524, RB 525-674. With two matrices ITR is empty; with one (the
    shallow 20-10 net) LB and RB are both that matrix and ITR is empty.
    """
    sizes = [out * fan_in for out, fan_in in layer_shapes(widths)]
    total = sum(sizes)
    first_end, last_start = sizes[0], total - sizes[-1]
    return {"LB": slice(0, first_end), "ITR": slice(first_end, max(first_end, last_start)),
            "RB": slice(last_start, total), "FULL": slice(0, total)}


def mean_weights(theta: torch.Tensor) -> torch.Tensor:
    """Mean mu = 2 sigmoid(theta) - 1 of a ±1 weight with P(+1) = sigmoid(theta) (eq. 2a)."""
    return 2 * torch.sigmoid(theta) - 1


def weight_variances(theta: torch.Tensor) -> torch.Tensor:
    """Variance 1 - mu^2 of that weight (eq. 2b), as 4 sigmoid(theta) sigmoid(-theta), which stays
    positive for large |theta| where 1 - mu^2 would round to zero."""
    return 4 * torch.sigmoid(theta) * torch.sigmoid(-theta)


def hidden_activation(pre: torch.Tensor, fan_in: int) -> torch.Tensor:
    """LeakyReLU_{0.1}(pre) / sqrt(fan_in): the hidden activation of eqs. 3b and 10b, ``fan_in``
    being the fan-in of the matrix that produced ``pre``."""
    return F.leaky_relu(pre, LEAKY_SLOPE) / math.sqrt(fan_in)


def preactivation_moments(theta: torch.Tensor, a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean a mu^T and variance a^2 (1 - mu^2)^T of the pre-activations that the activations ``a``
    (..., n, in) produce through ±1 weights of fields ``theta`` (..., out, in) (eqs. 3a, 10a)."""
    return a @ mean_weights(theta).mT, a.square() @ weight_variances(theta).mT


def mean_field_forward(theta: Sequence[torch.Tensor], x: torch.Tensor,
                       eps: Sequence[torch.Tensor]) -> torch.Tensor:
    """Output pre-activations of the local-reparameterised network (eqs. 3, 10).

    ``theta`` holds the fields of each layer, (..., out, in); ``x`` is (..., n, d_in); ``eps`` the
    standard normal noise of each layer, (..., n, out). Each layer computes
    h = mean + sqrt(var) eps from :func:`preactivation_moments`; hidden layers apply
    :func:`hidden_activation`, the last layer returns h (the softmax logits).
    """
    a = x
    for layer, (fields, noise) in enumerate(zip(theta, eps)):
        mean, var = preactivation_moments(fields, a)
        pre = mean + var.clamp_min(torch.finfo(var.dtype).tiny).sqrt() * noise
        a = pre if layer == len(theta) - 1 else hidden_activation(pre, fields.shape[-1])
    return a


def binary_forward(weights: Sequence[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Output pre-activations of the deterministic network with weight matrices ``weights``.

    Same activation convention as :func:`mean_field_forward` with the noise switched off. The
    matrices are (..., out, in) with any leading batch dimensions and any dtype (int8 ±1 draws,
    the mean weights mu of the mean-field predictor, or the real weights of appendix F); ``x`` is
    (n, d_in) or (..., n, d_in). Returns (..., n, d_out) in the dtype of ``x``.
    """
    _check_chain(weights)
    a = x
    for layer, w in enumerate(weights):
        pre = a @ w.to(x.dtype).mT
        a = pre if layer == len(weights) - 1 else hidden_activation(pre, w.shape[-1])
    return a


def _check_chain(weights: Sequence[torch.Tensor]) -> None:
    """ValueError unless consecutive matrices chain: in of layer l+1 == out of layer l."""
    if not weights:
        raise ValueError("weights must hold at least one (out, in) matrix")
    shapes = [tuple(w.shape[-2:]) for w in weights]
    if any(nxt[1] != prev[0] for prev, nxt in zip(shapes, shapes[1:])):
        raise ValueError(f"weight matrices do not chain: (out, in) shapes {shapes}")


def _check_data(x: torch.Tensor, y: torch.Tensor, widths: tuple[int, ...], what: str) -> None:
    """ValueError unless x is (n, d_in), y holds n integer labels in 0..d_out-1."""
    if x.ndim != 2 or x.shape[1] != widths[0]:
        raise ValueError(f"x_{what} must be (n, {widths[0]}) for widths {widths}; got shape {tuple(x.shape)}")
    if y.shape != (x.shape[0],) or y.dtype.is_floating_point or y.dtype == torch.bool:
        raise ValueError(f"y_{what} must hold {x.shape[0]} integer labels; got {y.dtype} of shape {tuple(y.shape)}")
    if x.shape[0] and (y.min() < 0 or y.max() >= widths[-1]):
        raise ValueError(f"y_{what} labels must lie in 0..{widths[-1] - 1} (d_out = {widths[-1]}); "
                         f"found {int(y.min())}..{int(y.max())}")


def binary_accuracy(weights: Sequence[torch.Tensor], x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Accuracy (fraction of argmax-correct samples) of many networks at once.

    ``weights`` are (..., out, in) with common leading dimensions, one network per leading index;
    the result has those leading dimensions, in the dtype of ``x``. Networks are evaluated in
    chunks so that memory stays bounded for thousands of configurations.
    """
    _check_chain(weights)
    _check_data(x, y, (weights[0].shape[-1], weights[-1].shape[-2]), "eval")
    batch = weights[0].shape[:-2]
    flat = [w.reshape(-1, *w.shape[-2:]) for w in weights]
    chunk = max(1, _EVAL_ELEMENTS // max(1, len(x) * max(w.shape[-2] for w in weights)))
    correct = [(binary_forward([w[i:i + chunk] for w in flat], x).argmax(-1) == y).to(x.dtype).mean(-1)
               for i in range(0, len(flat[0]), chunk)]
    return torch.cat(correct).reshape(batch)


def sample_weights(theta: Sequence[torch.Tensor], n_samples: int,
                   generator: torch.Generator | int) -> list[torch.Tensor]:
    """Draw ``n_samples`` deterministic binary networks from the fields (eq. 1, end of appendix A).

    Each weight is +1 with probability sigmoid(theta), else -1, independently. ``theta`` holds
    tensors of any shape (one network (out, in) or an ensemble (E, out, in)); the result holds
    int8 tensors (n_samples, *theta_l.shape) on the device of theta. Uniforms come from the CPU
    ``generator`` (or a seed), so draws do not depend on the device.
    """
    if n_samples < 1:
        raise ValueError(f"n_samples must be positive, got {n_samples}")
    generator = as_generator(generator)
    draws = []
    for fields in theta:
        p = torch.sigmoid(fields.detach().cpu().to(torch.float64))
        u = torch.rand((n_samples, *fields.shape), generator=generator, dtype=torch.float64)
        draws.append(torch.where(u < p, 1, -1).to(torch.int8).to(fields.device))
    return draws


def flatten_configurations(weights: Sequence[torch.Tensor]) -> torch.Tensor:
    """Matrices (..., out, in) as configuration vectors (..., N): row-major, layer by layer."""
    return torch.cat([w.flatten(-2) for w in weights], dim=-1)


def unflatten_configurations(configurations: torch.Tensor, widths: Sequence[int]) -> list[torch.Tensor]:
    """Inverse of :func:`flatten_configurations`: vectors (..., N) back to (..., out, in) matrices."""
    shapes = layer_shapes(widths)
    if configurations.shape[-1] != count_weights(check_widths(widths)):
        raise ValueError(f"configurations of widths {tuple(widths)} have {count_weights(check_widths(widths))} entries; "
                         f"got last dimension {configurations.shape[-1]}")
    parts = configurations.split([out * fan_in for out, fan_in in shapes], dim=-1)
    return [part.unflatten(-1, shape) for part, shape in zip(parts, shapes)]


def network_seeds(seed: int, n_networks: int) -> tuple[int, ...]:
    """Seeds of the networks of an ensemble: the first word of the ``n_networks`` children that
    ``numpy.random.SeedSequence(seed)`` spawns (independent streams, none shared between seeds)."""
    return tuple(int(child.generate_state(1)[0]) for child in np.random.SeedSequence(seed).spawn(n_networks))


def order_seed_of(seed: int) -> int:
    """Seed of the minibatch order that all networks of a ``shared_order`` ensemble follow."""
    return int(np.random.SeedSequence(seed).generate_state(1)[0])


@dataclass
class Ensemble:
    """E networks trained together, network k being ``train_single(..., seed=seeds[k])``.

    ``params`` holds the fields theta (``weights="binary"``) or the real weights (``"real"``) of each
    layer, (E, out, in); ``initial_params`` the same at initialisation. ``train_loss`` (E, epochs)
    is each epoch's mean minibatch cross-entropy of the training forward pass (with noise eps for
    binary nets); ``test_accuracy`` (E, epochs) the test accuracy after each epoch of the
    deterministic *predictor*: for binary nets the mean-field predictor, the network with weights
    mu and eps = 0 (not a sampled ±1 network: use :func:`draw_configurations` for those).
    """

    widths: tuple[int, ...]
    weights: str
    params: list[torch.Tensor]
    initial_params: list[torch.Tensor]
    seeds: tuple[int, ...]
    order_seed: int | None
    train_loss: torch.Tensor
    test_accuracy: torch.Tensor
    lr: float
    batch_size: int
    l2: float

    @property
    def n_networks(self) -> int:
        """Number of networks E."""
        return len(self.seeds)

    @property
    def theta(self) -> list[torch.Tensor]:
        """The fields theta of a binary ensemble, (E, out, in) per layer."""
        if self.weights != "binary":
            raise ValueError(f"a {self.weights}-weight ensemble has no fields theta; use .params")
        return self.params

    def predictor_weights(self) -> list[torch.Tensor]:
        """Weights of the deterministic predictor: mu (eq. 2a) for binary nets, the weights for real ones."""
        return [mean_weights(p) for p in self.params] if self.weights == "binary" else list(self.params)

    def accuracy(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Accuracy (E,) of each network's predictor on (x, y)."""
        return binary_accuracy(self.predictor_weights(), x, y)


def _validate(widths, x_train, y_train, x_test, y_test, n_networks, epochs, lr, batch_size, l2, weights) -> None:
    """ValueError naming the bad argument and its valid range."""
    check_choice(weights, WEIGHT_KINDS, "weights", plural="weights")
    _check_data(x_train, y_train, widths, "train")
    _check_data(x_test, y_test, widths, "test")
    if n_networks < 1 or epochs < 1:
        raise ValueError(f"n_networks and epochs must be positive; got n_networks={n_networks}, epochs={epochs}")
    if not 1 <= batch_size <= len(x_train):
        raise ValueError(f"batch_size must lie in 1..{len(x_train)} (the training set size); got {batch_size}")
    if not lr > 0 or not l2 >= 0:
        raise ValueError(f"need lr > 0 and l2 >= 0; got lr={lr}, l2={l2}")


def _initial_params(shapes, generators, std: float, dtype, device) -> list[torch.Tensor]:
    """N(0, std^2) parameters (E, out, in), network k drawn from generators[k], layer after layer."""
    return [torch.stack([torch.randn(shape, generator=g, dtype=dtype) for g in generators]).mul_(std).to(device)
            for shape in shapes]


def _epoch_orders(generators, order, n_train: int, device) -> torch.Tensor:
    """Minibatch order (E, n_train) of one epoch: a permutation from each network's generator, or
    one permutation from the shared ``order`` generator."""
    if order is None:
        return torch.stack([torch.randperm(n_train, generator=g) for g in generators]).to(device)
    return torch.randperm(n_train, generator=order).expand(len(generators), n_train).to(device)


def _minibatch_loss(params, xb, yb, generators, binary: bool) -> torch.Tensor:
    """Mean cross-entropy (E,) of each network on its minibatch (E, B, d_in): through the
    local-reparameterised forward pass with fresh noise from each network's generator (binary),
    or through the deterministic network (real)."""
    if binary:
        outs = [p.shape[-2] for p in params]
        eps = torch.stack([torch.randn((xb.shape[1], sum(outs)), generator=g, dtype=xb.dtype) for g in generators])
        logits = mean_field_forward(params, xb, eps.to(xb.device).split(outs, dim=-1))
    else:
        logits = binary_forward(params, xb)
    return F.cross_entropy(logits.flatten(0, 1), yb.flatten(), reduction="none").view(len(generators), -1).mean(1)


def _check_frozen(frozen, widths: tuple[int, ...], n_networks: int, weights: str) -> list:
    """``frozen`` as one entry per layer (None: trained); ValueError unless each held layer is ±1 of shape
    (E, out, in), at least one layer is trained and the weights are binary."""
    shapes = layer_shapes(widths)
    if frozen is None:
        return [None] * len(shapes)
    frozen = list(frozen)
    if weights != "binary" or len(frozen) != len(shapes) or all(f is not None for f in frozen):
        raise ValueError(f"frozen must list one entry per layer ({len(shapes)}), None for a trained layer, at least one "
                         f"trained, for binary weights; got {len(frozen)} entries for {weights} weights")
    for layer, (held, shape) in enumerate(zip(frozen, shapes)):
        if held is not None and (tuple(held.shape) != (n_networks, *shape) or not bool((held.abs() == 1).all())):
            raise ValueError(f"frozen layer {layer} must hold ±1 weights of shape {(n_networks, *shape)}; "
                             f"got shape {tuple(held.shape)}")
    return frozen


def _hold(params: list[torch.Tensor], frozen: list) -> None:
    """Set the fields of each held layer to ±inf at its ±1 weights, in place: mu = ±1 and variance 0 exactly."""
    for layer, held in enumerate(frozen):
        if held is not None:
            params[layer] = torch.where(held.to(params[layer].device) > 0, math.inf, -math.inf).to(params[layer])


def _fit(widths, x_train, y_train, x_test, y_test, seeds, order_seed, epochs, lr, batch_size, l2, weights,
         dtype, device, progress, frozen=None) -> Ensemble:
    """The batched trainer behind :func:`train_ensemble` and :func:`train_single`."""
    widths = check_widths(widths)
    lr = DEFAULT_LR[weights] if lr is None and weights in DEFAULT_LR else lr
    _validate(widths, x_train, y_train, x_test, y_test, len(seeds), epochs, lr, batch_size, l2, weights)
    frozen = _check_frozen(frozen, widths, len(seeds), weights)
    device = resolve_device(device)
    x_train, x_test = (x.to(device=device, dtype=dtype) for x in (x_train, x_test))
    y_train, y_test = (y.to(device=device, dtype=torch.int64) for y in (y_train, y_test))
    generators = [torch.Generator().manual_seed(s) for s in seeds]
    order = None if order_seed is None else torch.Generator().manual_seed(order_seed)
    binary = weights == "binary"
    params = _initial_params(layer_shapes(widths), generators, THETA_INIT_STD if binary else REAL_INIT_STD,
                             dtype, device)
    _hold(params, frozen)
    ensemble = Ensemble(widths, weights, params, [p.clone() for p in params], tuple(seeds), order_seed,
                        torch.zeros(len(seeds), epochs, dtype=torch.float64),
                        torch.zeros(len(seeds), epochs, dtype=torch.float64), lr, batch_size, l2)
    optimizer = torch.optim.Adam([p.requires_grad_(True) for p, held in zip(params, frozen) if held is None],
                                 lr=lr, weight_decay=l2)
    steps = len(x_train) // batch_size
    bar = progress_bar(range(epochs), disable=not progress, desc=f"{len(seeds)} {weights} net(s)", unit="epoch")
    for epoch in bar:
        orders, epoch_loss = _epoch_orders(generators, order, len(x_train), device), 0
        for step in range(steps):
            batch = orders[:, step * batch_size:(step + 1) * batch_size]
            loss = _minibatch_loss(params, x_train[batch], y_train[batch], generators, binary)
            optimizer.zero_grad()
            loss.sum().backward()
            optimizer.step()
            epoch_loss = epoch_loss + loss.detach()
        with torch.no_grad():
            ensemble.train_loss[:, epoch] = epoch_loss.cpu().to(torch.float64) / steps
            ensemble.test_accuracy[:, epoch] = ensemble.accuracy(x_test, y_test).cpu().to(torch.float64)
        bar.set_postfix(test_acc=f"{ensemble.test_accuracy[:, epoch].mean():.3f}")
    ensemble.params = [p.detach() for p in params]
    return ensemble


def train_ensemble(widths: Sequence[int], x_train: torch.Tensor, y_train: torch.Tensor, x_test: torch.Tensor,
                   y_test: torch.Tensor, n_networks: int, epochs: int, lr: float | None = None,
                   batch_size: int = 200, l2: float = 1e-5, seed: int = 0, shared_order: bool = False,
                   weights: str = "binary", dtype: torch.dtype = torch.float32,
                   device: str | torch.device = "auto", progress: bool = True,
                   frozen: Sequence[torch.Tensor | None] | None = None) -> Ensemble:
    """Train ``n_networks`` networks of architecture ``widths`` as one batched computation.

    Appendix A and D of Zou & Huang: fields theta ~ N(0, 0.1^2) at start (their "random Gaussian
    initialization of external fields"; 0.1 as in their code), one epoch = ``len(x_train) //
    batch_size`` minibatches of a fresh random permutation (the remainder is dropped), a fresh eps
    per minibatch and layer, softmax cross-entropy averaged over the minibatch, Adam (betas 0.9,
    0.999, eps 1e-8) with ``lr`` (default 0.3 for binary nets, the value of their code; 0.01 for
    real ones) and L2 strength ``l2`` added to the gradient as l2 * theta. Network k uses
    ``network_seeds(seed, n_networks)[k]``; with ``shared_order`` all networks see the same
    minibatches, drawn from ``order_seed_of(seed)``.

    ``weights="real"`` trains the real-valued counterpart of appendix F instead: the network of
    :func:`binary_forward` with real weights, initialised N(0, 1) (the first two moments of
    uniformly random ±1 weights), without noise. ``x`` is (n, d_in), ``y`` integer labels
    0..d_out-1.

    ``frozen`` (binary weights only) lists, per layer, None for a trained layer or the ±1 weights
    (E, out, in) at which that layer is held, as Zou & Huang freeze the interior (§IV.6, Fig. 11: "its
    external field is quenched to a positive large value" or a negative one): its fields are
    ±inf, so mu = ±1 and the variance 1 - mu^2 = 0 exactly, and the optimiser does not see them.
    Everything else (the initial fields of the trained layers, the minibatch order, the noise) is
    drawn as without ``frozen``, so a frozen network and its normally trained twin differ only by
    the held layers.
    """
    seeds = network_seeds(seed, max(n_networks, 0))
    return _fit(widths, x_train, y_train, x_test, y_test, seeds, order_seed_of(seed) if shared_order else None,
                epochs, lr, batch_size, l2, weights, dtype, device, progress, frozen)


def train_single(widths: Sequence[int], x_train: torch.Tensor, y_train: torch.Tensor, x_test: torch.Tensor,
                 y_test: torch.Tensor, epochs: int, lr: float | None = None, batch_size: int = 200,
                 l2: float = 1e-5, seed: int = 0, order_seed: int | None = None, weights: str = "binary",
                 dtype: torch.dtype = torch.float32, device: str | torch.device = "auto",
                 progress: bool = True) -> Ensemble:
    """Train one network with the algorithm of :func:`train_ensemble` (an ensemble of one).

    ``seed`` seeds the network's own generator (initial fields, minibatch order, noise);
    ``order_seed`` if given seeds the minibatch order instead. Network k of
    ``train_ensemble(..., seed=s)`` is ``train_single(..., seed=ensemble.seeds[k],
    order_seed=ensemble.order_seed)``.
    """
    return _fit(widths, x_train, y_train, x_test, y_test, (int(seed),), order_seed, epochs, lr, batch_size, l2,
                weights, dtype, device, progress)


@dataclass(frozen=True)
class Configurations:
    """Binary weight configurations (M, N) int8 in the flattened order, their test accuracies (M,)
    and the index (M,) of the ensemble network whose fields they were drawn from."""

    widths: tuple[int, ...]
    weights: torch.Tensor
    accuracy: torch.Tensor
    network: torch.Tensor

    def matrices(self) -> list[torch.Tensor]:
        """The configurations as weight matrices (M, out, in)."""
        return unflatten_configurations(self.weights, self.widths)

    def above(self, threshold: float) -> "Configurations":
        """The configurations whose accuracy reaches ``threshold`` (accuracy >= threshold), in order."""
        keep = self.accuracy >= threshold
        return Configurations(self.widths, self.weights[keep], self.accuracy[keep], self.network[keep])


def _draw_per_network(theta: Sequence[torch.Tensor], n_per_network: int,
                      generator: torch.Generator | int) -> list[torch.Tensor]:
    """Draws (E, n, out, in) from ensemble fields (E, out, in), grouped by network."""
    return [w.transpose(0, 1) for w in sample_weights(theta, n_per_network, generator)]


def draw_configurations(ensemble: Ensemble, x_test: torch.Tensor, y_test: torch.Tensor, n_per_network: int,
                        threshold: float, generator: torch.Generator | int,
                        best_only: bool = False) -> Configurations:
    """Collect binary configurations the way of Zou & Huang §II: draw ``n_per_network`` networks
    from the trained fields of each ensemble member, measure their test accuracy and keep those
    reaching ``threshold`` (accuracy >= threshold), grouped by network.

    ``best_only=True`` keeps at most one draw per network, its most accurate one (first on ties),
    if it reaches the threshold (the literal reading of "select the one with the optimal test
    accuracy").
    """
    if ensemble.weights != "binary":
        raise ValueError("draw_configurations needs a binary ensemble (weights='binary')")
    if not 0 <= threshold <= 1:
        raise ValueError(f"threshold is an accuracy and must lie in [0, 1]; got {threshold}")
    draws = _draw_per_network(ensemble.params, n_per_network, generator)
    x_test = x_test.to(ensemble.params[0].device, ensemble.params[0].dtype)
    accuracy = binary_accuracy(draws, x_test, y_test.to(x_test.device))
    keep = accuracy >= threshold
    if best_only:
        keep &= F.one_hot(accuracy.argmax(1), n_per_network).bool()
    keep = keep.flatten()
    network = torch.arange(ensemble.n_networks, device=keep.device).repeat_interleave(n_per_network)
    return Configurations(ensemble.widths, flatten_configurations(draws).flatten(0, 1)[keep],
                          accuracy.flatten()[keep], network[keep])


def initial_configurations(ensemble: Ensemble, n_per_network: int, generator: torch.Generator | int) -> torch.Tensor:
    """Configurations (E * n_per_network, N) int8 drawn from each network's *initial* fields,
    grouped by network: the "random initialization points" of Zou & Huang fig. 2(b)."""
    if ensemble.weights != "binary":
        raise ValueError("initial_configurations needs a binary ensemble (weights='binary')")
    return flatten_configurations(_draw_per_network(ensemble.initial_params, n_per_network, generator)).flatten(0, 1)


def network_accuracy(ensemble: Ensemble, x: torch.Tensor, y: torch.Tensor, n_draws: int,
                     generator: torch.Generator | int) -> torch.Tensor:
    """Accuracy (E,) of each network as a *binary* network: the mean accuracy of ``n_draws``
    networks drawn from its fields (as Zou & Huang's code averages 20 draws for appendices F, G).
    For a real-weight ensemble, the accuracy of its weights (``n_draws`` is not used)."""
    if ensemble.weights != "binary":
        return ensemble.accuracy(x, y)
    draws = draw_configurations(ensemble, x, y, n_draws, 0.0, generator)
    return draws.accuracy.reshape(ensemble.n_networks, n_draws).mean(1)
