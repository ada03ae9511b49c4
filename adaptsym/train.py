"""Training runs of bias-free ReLU networks on the hinge risk, with weight snapshots (Li §II.3, fig. 8b).

Training is the feedback-control loop of Li eq. 13, d theta/dt = -eta grad R, with R the hinge
risk of Li eq. 12, discretised by SGD or Adam. A run is identified by its :class:`TrainConfig`
and a fingerprint of its data; it lives in ``<root>/<model>-<key>/`` and holds:

- ``config.json``: the config and the data fingerprint the key was computed from;
- ``history.json``: one entry per epoch (epoch 0 = initialisation, lr None) with the learning
  rate used in that epoch, the train hinge loss and accuracy and, if given, the test ones (always
  of the deterministic ReLU network) and, for stochastic training, ``train_stochastic_loss``;
- ``snap-<epoch>.pt``: model weights at each of ``config.snapshot_epochs``;
- ``checkpoint.pt``: everything needed to continue (weights, optimizer, scheduler, history and the
  state of the generators that shuffle minibatches and sample gates), rewritten atomically after
  every epoch;
- ``complete.json``: the marker of a finished run, which is then reused without training.

Stochastic training (``temperature > 0``) is Li's generalised EM reading of training (§II.2): each
minibatch's forward pass samples the gates at that temperature (E-step, :mod:`adaptsym.stochastic`),
and the weights step along the risk gradient with those gates fixed (M-step).  ``temperature = 0``
is plain backpropagation through the ReLU network.

Because minibatch shuffling and gate sampling draw from their own checkpointed generators and
nothing else draws random numbers, a run resumed from its checkpoint ends with bit-identical
weights and history to an uninterrupted one (on the CPU).
"""

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import torch
from filelock import FileLock
from torch import nn

from adaptsym.device import resolve_device
from adaptsym.models import accuracy, hinge_loss, relu_mlp, vgg_cnn
from adaptsym.order import gradient_norm_sq
from adaptsym.progress import progress_bar
from adaptsym.stochastic import with_stochastic_gates
from adaptsym.storage import atomic_write, atomic_write_json, cache_root, json_digest

MODELS = ("mlp", "cnn")
OPTIMIZERS = ("sgd", "adam")
LR_SCHEDULES = ("constant", "cosine")
DTYPES = ("float32", "float64")
DONE_MARKER = "complete.json"


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a training run; its canonical JSON names the run on disk.

    ``model="mlp"`` uses ``widths = (d_in, h_1, ..., 1)``; ``model="cnn"`` uses ``in_channels``,
    ``channels``, ``image_size`` and ``convs_per_block`` (see :func:`adaptsym.models.vgg_cnn`).
    ``batch_size=None`` trains full batch. ``snapshot_epochs`` lists the epochs whose weights are
    saved, 0 being the initialisation. ``data_key`` names the data set (e.g. a task description).
    ``temperature > 0`` trains the stochastic network whose gates are sampled at that temperature
    (generalised EM, Li §II.2); 0 trains the ReLU network. ``record_gradient_norm`` adds to every epoch's
    history entry the squared norm of the full-training-set risk gradient, ||grad R||^2 (Li eq. 15).
    ``convs_per_block`` is one count for every block or one per block.
    """

    model: str
    widths: tuple[int, ...] = ()
    in_channels: int = 0
    channels: tuple[int, ...] = ()
    image_size: int = 0
    convs_per_block: int | tuple[int, ...] = 1
    optimizer: str = "sgd"
    lr: float = 0.01
    momentum: float = 0.0
    weight_decay: float = 0.0
    batch_size: int | None = None
    epochs: int = 10
    lr_schedule: str = "constant"
    seed: int = 0
    snapshot_epochs: tuple[int, ...] = (0,)
    dtype: str = "float32"
    data_key: str = ""
    temperature: float = 0.0
    record_gradient_norm: bool = False

    def __post_init__(self):
        for name in ("widths", "channels", "snapshot_epochs"):
            object.__setattr__(self, name, tuple(int(v) for v in getattr(self, name)))
        if not isinstance(self.convs_per_block, int):
            object.__setattr__(self, "convs_per_block", tuple(int(v) for v in self.convs_per_block))
        for name, value, choices in (
            ("model", self.model, MODELS),
            ("optimizer", self.optimizer, OPTIMIZERS),
            ("lr_schedule", self.lr_schedule, LR_SCHEDULES),
            ("dtype", self.dtype, DTYPES),
        ):
            if value not in choices:
                raise ValueError(f"{name}={value!r} is not one of {choices}")
        if self.model == "mlp" and (len(self.widths) < 2 or self.widths[-1] != 1 or self.channels):
            raise ValueError(f"model='mlp' needs widths=(d_in, ..., 1) and no channels; got widths={self.widths}")
        if self.model == "cnn" and (not self.channels or self.image_size < 1 or self.in_channels < 1 or self.widths):
            raise ValueError("model='cnn' needs in_channels, channels and image_size, and no widths")
        if self.epochs < 1 or self.lr <= 0 or (self.batch_size is not None and self.batch_size < 1):
            raise ValueError(
                f"epochs, lr and batch_size must be positive; got {self.epochs}, {self.lr}, {self.batch_size}"
            )
        if self.optimizer == "adam" and self.momentum:
            raise ValueError("momentum is an 'sgd' setting; Adam has its own moment estimates")
        object.__setattr__(self, "temperature", float(self.temperature))
        if not (math.isfinite(self.temperature) and self.temperature >= 0):
            raise ValueError(f"temperature must be a finite number >= 0 (0 = ReLU network); got {self.temperature}")
        if any(e < 0 or e > self.epochs for e in self.snapshot_epochs):
            raise ValueError(f"snapshot_epochs must lie in [0, epochs={self.epochs}]; got {self.snapshot_epochs}")

    @property
    def torch_dtype(self) -> torch.dtype:
        """The torch dtype named by ``dtype``."""
        return getattr(torch, self.dtype)


def model_from_config(config: TrainConfig, device: str | torch.device = "auto") -> nn.Sequential:
    """The initial network of a run: its architecture, drawn with ``config.seed``."""
    common = dict(seed=config.seed, dtype=config.torch_dtype, device=device)
    if config.model == "mlp":
        return relu_mlp(config.widths, **common)
    return vgg_cnn(
        config.in_channels, config.channels, config.image_size, convs_per_block=config.convs_per_block, **common
    )


def default_root() -> Path:
    """Where runs are cached: :func:`adaptsym.storage.cache_root` of ``"runs"``."""
    return cache_root("runs")


def data_fingerprint(*tensors: torch.Tensor | None) -> str:
    """sha256 over the dtype, shape and bytes of each tensor (None included as a placeholder)."""
    digest = hashlib.sha256()
    for t in tensors:
        if t is None:
            digest.update(b"none;")
            continue
        t = t.detach().cpu().contiguous()
        digest.update(f"{t.dtype}{tuple(t.shape)};".encode())
        digest.update(t.reshape(-1).view(torch.uint8).numpy())
    return digest.hexdigest()


def run_key(config: TrainConfig, fingerprint: str) -> str:
    """First 12 hex digits of the sha256 of the canonical JSON of the config and data fingerprint."""
    return json_digest({"config": dataclasses.asdict(config), "data": fingerprint}, 12)


class Run:
    """A training run on disk: its config, per-epoch history, snapshots and final weights."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        config_file = self.path / "config.json"
        if not config_file.is_file():
            raise FileNotFoundError(f"{config_file} not found: {self.path} is not a training run directory")
        self.config = TrainConfig(**json.loads(config_file.read_text())["config"])

    @property
    def complete(self) -> bool:
        """Whether training reached ``config.epochs``."""
        return (self.path / DONE_MARKER).is_file()

    @property
    def history(self) -> list[dict[str, Any]]:
        """One dict per epoch so far: epoch, lr, train_loss, train_accuracy (and test_* if given)."""
        return json.loads((self.path / "history.json").read_text())

    @property
    def snapshot_epochs(self) -> tuple[int, ...]:
        """Epochs whose weights are saved so far."""
        return tuple(sorted(int(p.stem.split("-")[1]) for p in self.path.glob("snap-*.pt")))

    def snapshot(self, epoch: int) -> dict[str, torch.Tensor]:
        """The model state_dict saved at ``epoch`` (on the CPU)."""
        file = self.path / f"snap-{epoch}.pt"
        if not file.is_file():
            raise FileNotFoundError(
                f"no snapshot at epoch {epoch} in {self.path}; saved epochs: {self.snapshot_epochs} "
                "(add the epoch to TrainConfig.snapshot_epochs)"
            )
        return torch.load(file, map_location="cpu", weights_only=True)

    def model(self, epoch: int | None = None, device: str | torch.device = "cpu") -> nn.Sequential:
        """The network with the weights of ``epoch``, or the latest (final, if complete) if None, on ``device``: by
        default the CPU, where the book's analyses of a trained network run beside their CPU inputs (as
        :meth:`adaptsym.reference.ReferenceRun.model`); ``"auto"`` puts it on the accelerator."""
        state = self.snapshot(epoch) if epoch is not None else _load_checkpoint(self.path)["model"]
        net = model_from_config(self.config, device)
        net.load_state_dict(state)
        return net

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r}, complete={self.complete})"


def train_run(
    config: TrainConfig,
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    x_test: torch.Tensor | None = None,
    y_test: torch.Tensor | None = None,
    *,
    root: str | Path | None = None,
    device: str | torch.device = "auto",
    progress: bool = True,
    stop_after_epoch: int | None = None,
) -> Run:
    """Train (or reuse, or resume) the run of ``config`` on the given data; labels in {-1, +1}.

    A finished run is returned without training. A run with a checkpoint but no done marker
    resumes from its last finished epoch, so an interruption (including Ctrl-C mid-epoch) loses at
    most the current epoch. ``stop_after_epoch=k`` stops cleanly after epoch k, leaving the
    checkpoint and no done marker: the way to simulate an interruption.
    """
    if stop_after_epoch is not None and stop_after_epoch < 0:
        raise ValueError(f"stop_after_epoch must be None or a non-negative epoch; got {stop_after_epoch}")
    fingerprint = data_fingerprint(x_train, y_train, x_test, y_test)
    path = Path(root if root is not None else default_root()) / f"{config.model}-{run_key(config, fingerprint)}"
    if (path / DONE_MARKER).is_file():
        return Run(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # one process trains a run at a time (a sweep's workers may share the cache); the others wait, then reuse it
    with FileLock(f"{path}.lock"):
        if (path / DONE_MARKER).is_file():
            return Run(path)
        return _train(path, config, fingerprint, x_train, y_train, x_test, y_test, device, progress, stop_after_epoch)


def _train(path: Path, config: TrainConfig, fingerprint: str, x_train: torch.Tensor, y_train: torch.Tensor,
           x_test: torch.Tensor | None, y_test: torch.Tensor | None, device: str | torch.device, progress: bool,
           stop_after_epoch: int | None) -> Run:
    """The body of :func:`train_run`, under its lock: start or resume the run at ``path`` and train it."""
    device = resolve_device(device)
    train = _prepare_data(config, x_train, y_train, device)
    test = None if x_test is None and y_test is None else _prepare_data(config, x_test, y_test, device)
    path.mkdir(parents=True, exist_ok=True)
    atomic_write_json(path / "config.json", {"config": dataclasses.asdict(config), "data": fingerprint}, indent=None)

    training = _Training.start(path, config, device)
    if (path / "checkpoint.pt").is_file():
        training.load_state_dict(_load_checkpoint(path))
    else:
        training.end_epoch(train, test, lr=None)

    done = len(training.history) - 1
    last = config.epochs if stop_after_epoch is None else min(stop_after_epoch, config.epochs)
    bar = progress_bar(range(done, last), initial=done, total=config.epochs, desc=path.name, disable=not progress)
    for _ in bar:
        entry = training.epoch(train, test)
        bar.set_postfix(loss=f"{entry['train_loss']:.4f}", acc=f"{entry['train_accuracy']:.3f}")
    if len(training.history) - 1 == config.epochs:
        atomic_write_json(path / DONE_MARKER, training.history[-1], indent=None)
    return Run(path)


def _prepare_data(
    config: TrainConfig, x: torch.Tensor | None, y: torch.Tensor | None, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """Data on ``device`` in the run's dtype, after checking shapes against the architecture.

    Label values are checked by the hinge loss (:func:`adaptsym.models.hinge_loss`).
    """
    if config.model == "mlp":
        expected = (config.widths[0],)
    else:
        expected = (config.in_channels, config.image_size, config.image_size)
    if x is None or y is None or tuple(x.shape[1:]) != expected or y.shape != (len(x),) or len(x) == 0:
        got = [None if t is None else tuple(t.shape) for t in (x, y)]
        raise ValueError(
            f"model={config.model!r} needs inputs of shape (N, {', '.join(map(str, expected))}) and labels of "
            f"shape (N,), N > 0; got {got[0]} and {got[1]}"
            + (" (flatten images with x.reshape(len(x), -1))" if config.model == "mlp" else "")
        )
    return x.to(device, config.torch_dtype), y.to(device, config.torch_dtype)


@dataclass
class _Training:
    """A run in progress: the network, its optimizer and schedule, the minibatch generator, the gate
    generator (stochastic training only) and the history so far; exactly what a checkpoint saves and
    restores."""

    path: Path
    config: TrainConfig
    model: nn.Sequential
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    shuffler: torch.Generator
    gate_sampler: torch.Generator | None
    history: list[dict[str, Any]]

    @classmethod
    def start(cls, path: Path, config: TrainConfig, device: torch.device) -> "_Training":
        """The state at initialisation, before epoch 0 is recorded."""
        model = model_from_config(config, device)
        optimizer = _optimizer(config, model)
        shuffler = torch.Generator().manual_seed(config.seed)
        gate_sampler = torch.Generator(device).manual_seed(config.seed) if config.temperature else None
        return cls(path, config, model, optimizer, _scheduler(config, optimizer), shuffler, gate_sampler, [])

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue bit-identically (weights copied to the CPU)."""
        state = {
            "model": {k: v.detach().cpu().clone() for k, v in self.model.state_dict().items()},
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "shuffler": self.shuffler.get_state(),
            "history": self.history,
        }
        if self.gate_sampler is not None:
            state["gate_sampler"] = self.gate_sampler.get_state()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from a checkpoint written by :meth:`end_epoch`."""
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.shuffler.set_state(state["shuffler"])
        if self.gate_sampler is not None:
            self.gate_sampler.set_state(state["gate_sampler"])
        self.history = state["history"]

    def epoch(
        self, train: tuple[torch.Tensor, torch.Tensor], test: tuple[torch.Tensor, torch.Tensor] | None
    ) -> dict[str, Any]:
        """Train one epoch at the scheduled learning rate, step the schedule, record the epoch.

        With a temperature the forward passes go through the stochastic network (sampled gates), whose
        weights are the model's; the mean of its minibatch losses is recorded as ``train_stochastic_loss``.
        """
        lr = self.optimizer.param_groups[0]["lr"]
        network = self.model
        if self.gate_sampler is not None:
            network = with_stochastic_gates(self.model, self.config.temperature, self.gate_sampler)
        loss = _train_epoch(self.config, network, self.optimizer, self.shuffler, *train)
        self.scheduler.step()
        return self.end_epoch(train, test, lr, loss if self.gate_sampler is not None else None)

    def end_epoch(
        self,
        train: tuple[torch.Tensor, torch.Tensor],
        test: tuple[torch.Tensor, torch.Tensor] | None,
        lr: float | None,
        stochastic_loss: float | None = None,
    ) -> dict[str, Any]:
        """Record the epoch just finished (0 = initialisation): history, snapshot, then checkpoint.

        Losses and accuracies are those of the deterministic ReLU network with the current weights;
        stochastic training adds ``train_stochastic_loss`` (None at epoch 0).  The checkpoint is
        written last, so a crash in between only repeats this epoch on resume.
        """
        epoch = len(self.history)
        entry: dict[str, Any] = {"epoch": epoch, "lr": lr}
        entry["train_loss"], entry["train_accuracy"] = _evaluate(self.model, *train, self.config.batch_size)
        if test is not None:
            entry["test_loss"], entry["test_accuracy"] = _evaluate(self.model, *test, self.config.batch_size)
        if self.gate_sampler is not None:
            entry["train_stochastic_loss"] = stochastic_loss
        if self.config.record_gradient_norm:
            entry["train_grad_norm_sq"] = gradient_norm_sq(self.model, *train, batch_size=self.config.batch_size)
        self.history.append(entry)
        state = self.state_dict()
        if epoch in self.config.snapshot_epochs:
            atomic_write(self.path / f"snap-{epoch}.pt", partial(torch.save, state["model"]))
        atomic_write_json(self.path / "history.json", self.history, indent=1)
        atomic_write(self.path / "checkpoint.pt", partial(torch.save, state))
        return entry


def _optimizer(config: TrainConfig, model: nn.Module) -> torch.optim.Optimizer:
    """SGD (with momentum) or Adam, both with L2 weight decay."""
    if config.optimizer == "sgd":
        return torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum,
                               weight_decay=config.weight_decay)
    return torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)


def _scheduler(config: TrainConfig, optimizer: torch.optim.Optimizer) -> torch.optim.lr_scheduler.LRScheduler:
    """Per-epoch learning-rate schedule: constant, or cosine annealing to 0 over ``epochs``."""
    if config.lr_schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.epochs)
    return torch.optim.lr_scheduler.ConstantLR(optimizer, factor=1.0)


def _train_epoch(
    config: TrainConfig,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    shuffler: torch.Generator,
    x: torch.Tensor,
    y: torch.Tensor,
) -> float:
    """One pass of gradient steps on the hinge risk (Li eqs. 12-13); minibatches drawn by ``shuffler``.

    Returns the mean over the epoch's examples of the loss of the forward pass each was trained with.
    """
    n = len(x)
    full_batch = config.batch_size is None or config.batch_size >= n
    order = torch.arange(n) if full_batch else torch.randperm(n, generator=shuffler)
    total = torch.zeros((), dtype=x.dtype, device=x.device)
    for batch in order.to(x.device).split(n if full_batch else config.batch_size):
        optimizer.zero_grad()
        loss = hinge_loss(model(x[batch]), y[batch])
        loss.backward()
        optimizer.step()
        total += loss.detach() * len(batch)
    return total.item() / n


@torch.no_grad()
def _evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int | None) -> tuple[float, float]:
    """Hinge risk and accuracy over a whole data set, in chunks of ``batch_size`` examples."""
    chunk = batch_size or len(x)
    output = torch.cat([model(part) for part in x.split(chunk)])
    return hinge_loss(output, y).item(), accuracy(output, y).item()


def _load_checkpoint(path: Path) -> dict[str, Any]:
    """The checkpoint of the run in ``path``, with a clear error if it is missing or unreadable."""
    file = path / "checkpoint.pt"
    try:
        return torch.load(file, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise FileNotFoundError(f"{file} not found; train the run with adaptsym.train.train_run") from None
    except Exception as error:
        raise ValueError(f"{file} is unreadable ({error}); delete {path} and train the run again") from error
