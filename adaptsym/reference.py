"""The reference training run that Chapters 4, 5 and 6 analyse (Li §I.1.3, Figs. 3a, 4, 6-8).

Li's experiment: a 12-layer bias-free VGG network (~10^7 weights, hinge loss instead of cross entropy) trained
by SGD on CIFAR-10 made binary for 300 epochs, to zero training risk, analysed at epochs
0, 10, 20, 30, 40, 100, 160, 200, 260, 300.  Each profile names its version of that run in
:data:`adaptsym.profiles.REFERENCE_RUNS`; :func:`reference_run` trains it once through the run cache
(:func:`adaptsym.train.train_run`) and every later call, from any chapter, reuses it.  Snapshots are taken at the
paper's epochs rescaled to the profile's length, and every epoch records the full-training-set hinge risk,
accuracy and squared gradient norm (Li's order parameter, eq. 15).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import torch
import torch.nn.functional as F
from torch import nn

from adaptsym.checks import check_choice
from adaptsym.data import load_images, load_task
from adaptsym.profiles import REFERENCE_RUNS, PROFILES
from adaptsym.train import Run, TrainConfig, train_run

PAPER_EPOCHS = (0, 10, 20, 30, 40, 100, 160, 200, 260, 300)
"""The epochs at which Li analyses the training run (Figs. 3a, 4a, 6a, 7, 8a)."""

CIFAR_VEHICLES = (0, 1, 8, 9)
"""CIFAR-10 made binary (Li supp. H B is not in our copy of the paper): vehicles (+1) against animals (-1)."""


def snapshot_epochs(epochs: int) -> tuple[int, ...]:
    """Li's analysis epochs rescaled from 300 to ``epochs`` (rounded, duplicates dropped)."""
    return tuple(sorted({round(e * epochs / PAPER_EPOCHS[-1]) for e in PAPER_EPOCHS}))


@dataclass(frozen=True)
class ReferenceRun:
    """A trained reference run: the cached :class:`~adaptsym.train.Run`, its training data and a description."""

    run: Run
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    settings: Mapping[str, Any]
    description: str

    @property
    def epochs(self) -> tuple[int, ...]:
        """The snapshot epochs (Li's epochs rescaled to this run's length)."""
        return self.run.config.snapshot_epochs

    @property
    def history(self) -> list[dict[str, Any]]:
        """Per epoch: lr, train_loss (hinge risk), train_accuracy, train_grad_norm_sq, test_loss, test_accuracy."""
        return self.run.history

    def model(self, epoch: int, device: str | torch.device = "cpu") -> nn.Sequential:
        """The network at snapshot ``epoch``."""
        return self.run.model(epoch, device=device)

    def weights(self, epoch: int) -> list[torch.Tensor]:
        """The weight tensors of each layer at snapshot ``epoch`` (input layer first), on the CPU."""
        return list(self.run.snapshot(epoch).values())


def reference_settings(profile: str, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The reference run's settings under ``profile`` with ``overrides``; unknown names are rejected."""
    check_choice(profile, PROFILES, "profile")
    settings = dict(REFERENCE_RUNS[profile])
    unknown = sorted(set(overrides or {}) - set(settings))
    if unknown:
        raise ValueError(f"unknown reference-run setting(s) {', '.join(unknown)}; valid: {', '.join(settings)}")
    settings.update(overrides or {})
    return settings


def reference_run(profile: str = "quick", overrides: Mapping[str, Any] | None = None, *,
                  device: str | torch.device = "auto", progress: bool = True) -> ReferenceRun:
    """Train (once) or reuse from the run cache the reference run of ``profile``.

    Under ``model: cnn`` the data set falls back from CIFAR-10 to Fashion-MNIST padded to 32x32 when the
    CIFAR-10 files are absent, and says so in one line.
    """
    settings = reference_settings(profile, overrides)
    dataset, data_line = _dataset(settings)
    if data_line:
        print(data_line)
    positive = CIFAR_VEHICLES if dataset == "cifar10" else tuple(settings["positive"])
    task = load_task(dataset, positive=positive, n_train=settings["n_train"], n_test=settings["n_test"],
                     seed=settings["seed"], device="cpu")
    x_train, x_test = (_inputs(x, dataset, settings) for x in (task.x_train, task.x_test))
    config = _train_config(settings, x_train, task.description)
    run = train_run(config, x_train, task.y_train, x_test, task.y_test, device=device, progress=progress)
    return ReferenceRun(run, x_train, task.y_train, x_test, task.y_test, settings,
                        _describe(config, task.description, settings))


def _dataset(settings: Mapping[str, Any]) -> tuple[str, str]:
    """The data set to train on and, for a CIFAR-10 run without its files, the line that says so."""
    if settings["dataset"] != "cifar10":
        return settings["dataset"], ""
    try:
        load_images("cifar10", "test")
    except FileNotFoundError:
        return "fashion-mnist", ("CIFAR-10 not found (`adaptsym fetch cifar10` gets it): the reference run uses "
                                 "binary Fashion-MNIST padded to 32x32 instead")
    return "cifar10", ""


def _inputs(x: torch.Tensor, dataset: str, settings: Mapping[str, Any]) -> torch.Tensor:
    """Flattened pixels for an MLP; images (N, C, size, size) for a CNN, zero-padded to ``image_size``."""
    if settings["model"] == "mlp":
        return x
    channels, side = (3, 32) if dataset == "cifar10" else (1, 28)
    images = x.reshape(len(x), channels, side, side)
    pad = settings["image_size"] - side
    return F.pad(images, (pad // 2, pad - pad // 2, pad // 2, pad - pad // 2))


def _train_config(settings: Mapping[str, Any], x_train: torch.Tensor, data_key: str) -> TrainConfig:
    """The TrainConfig of the reference run: plain SGD on the hinge risk, snapshots at Li's epochs rescaled."""
    if settings["model"] == "mlp":
        architecture = dict(widths=(x_train.shape[1], *settings["hidden"], 1))
    else:
        architecture = dict(in_channels=x_train.shape[1], channels=tuple(settings["channels"]),
                            image_size=settings["image_size"], convs_per_block=settings["convs_per_block"])
    return TrainConfig(model=settings["model"], **architecture, optimizer="sgd", lr=settings["lr"],
                       momentum=settings["momentum"], batch_size=settings["batch_size"], epochs=settings["epochs"],
                       seed=settings["seed"], snapshot_epochs=snapshot_epochs(settings["epochs"]),
                       dtype=settings["dtype"], data_key=data_key, record_gradient_norm=True)


def _describe(config: TrainConfig, data: str, settings: Mapping[str, Any]) -> str:
    """One paragraph a chapter prints: the network, its weight count, the data and the optimiser."""
    from adaptsym.models import count_parameters
    from adaptsym.train import model_from_config

    net = model_from_config(config, device="cpu")
    layers = sum(isinstance(m, (nn.Linear, nn.Conv2d)) for m in net)
    shape = (f"MLP {'-'.join(map(str, config.widths))}" if config.model == "mlp" else
             f"VGG-style CNN, channels {list(config.channels)} x convs {config.convs_per_block}, "
             f"{config.image_size}x{config.image_size} inputs")
    momentum = f", momentum {config.momentum}" if config.momentum else ""
    return (f"bias-free ReLU {shape}: {layers} weight layers, {count_parameters(net):,} weights; "
            f"{data}; hinge risk, SGD step {config.lr}{momentum}, batch {config.batch_size}, "
            f"{config.epochs} epochs, seed {config.seed}, {config.dtype}")

