"""Freezing the interior of a deep binary network (Zou & Huang §IV.6, Fig. 11).

The effective Ising model finds the interior of the network (ITR: the weight matrices between the
first and the last) weakly coupled and nearly unmagnetised, "liquid-like". Zou & Huang turn this into
an algorithmic test (§IV.6): fix each ITR weight at random, ±1 with equal probabilities, "its external
field quenched to a positive large value" if it is +1 "or a negative large value" if -1, train the rest
"normally", and find that "this scheme works in practice (Fig. 11)", adding that "the training would
become fast, in that the ITR does not need learning".

We train two ensembles of E networks on the same data with the same seed: normally
(:func:`adaptsym.binary.train_ensemble`) and with the ITR held at random ±1 weights (its ``frozen``
argument: fields ±inf, so the held weights are exactly ±1, deterministic). Network k of both
ensembles starts from the same fields of LB and RB, sees the same minibatches and the same noise: the
pairs differ only by their interior, so differences are taken pair by pair. The authors' code for
Fig. 11 (a 784-100-100-10 network on raw MNIST, their repository's ``task/FrozenITER``) redraws the
frozen interior at the start of every epoch; we follow the paper's text and freeze it once.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from adaptsym import binary
from adaptsym.ensembles import cached
from adaptsym.train import data_fingerprint

CONDITIONS = ("normal", "frozen")
FREEZING_TOLERANCE = 0.01
"""The loss of final test accuracy (1 percentage point) below which freezing the interior "works"."""
FREEZING_K = 2.0


def interior_layers(widths: Sequence[int]) -> list[int]:
    """The indices of the ITR weight matrices (all but the first and the last, as
    :func:`adaptsym.binary.region_slices`); ValueError when there are none (fewer than two hidden layers)."""
    n_layers = len(binary.layer_shapes(widths))
    if n_layers < 3:
        raise ValueError(f"freezing the interior needs at least two hidden layers (an ITR); widths {tuple(widths)} "
                         f"have {n_layers} weight matrices")
    return list(range(1, n_layers - 1))


def frozen_interior(widths: Sequence[int], n_networks: int, seed: int) -> list[torch.Tensor | None]:
    """The ``frozen`` argument of :func:`adaptsym.binary.train_ensemble` that holds the interior: per
    layer None (trained), or for the ITR matrices ±1 weights (E, out, in), each +1 or -1 with equal
    probabilities (drawn by eq. 1 at theta = 0 from a generator seeded by ``seed``)."""
    shapes = binary.layer_shapes(widths)
    interior = interior_layers(widths)
    draws = binary.sample_weights([torch.zeros(n_networks, *shapes[layer]) for layer in interior], 1, seed)
    held = dict(zip(interior, (draw[0] for draw in draws)))
    return [held.get(layer) for layer in range(len(shapes))]


def mean_and_error(values: np.ndarray) -> tuple[float, float]:
    """The mean of ``values`` and its standard error std / sqrt(n) (nan for a single value)."""
    values = np.asarray(values, dtype=np.float64)
    error = values.std(ddof=1) / np.sqrt(values.size) if values.size > 1 else np.nan
    return float(values.mean()), float(error)


def paired_difference(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Mean of a - b over pairs and its standard error std(a - b) / sqrt(n) (nan for a single pair)."""
    return mean_and_error(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))


@dataclass(frozen=True)
class TrainingRun:
    """One condition of Fig. 11: per network and epoch (E, epochs) the test accuracy of the mean-field
    predictor (the learning curves) and the training loss; per network (E,) the final test accuracy as
    a binary network (the mean over networks drawn from its fields); and the wall time and the CPU time
    of the process (seconds) that training the ensemble took (the CPU time is the steadier number on a
    shared machine)."""

    test_accuracy: np.ndarray
    train_loss: np.ndarray
    final_accuracy: np.ndarray
    wall_time: float
    cpu_time: float

    def epochs_to(self, target: float) -> np.ndarray:
        """The first epoch (counted from 1) at which each network's learning curve reaches ``target``;
        epochs + 1 for a network that never does."""
        reached = self.test_accuracy >= target
        return np.where(reached.any(1), reached.argmax(1) + 1, reached.shape[1] + 1)

    def final(self) -> tuple[float, float]:
        """Mean final (binary) test accuracy over the networks and its standard error."""
        return mean_and_error(self.final_accuracy)


@dataclass(frozen=True)
class FreezingExperiment:
    """Fig. 11: E networks trained normally and their twins with the interior frozen. ``target_fraction``
    sets the target accuracy of the training-time comparison, as a fraction of the lower of the two
    conditions' mean final learning-curve accuracies (an accuracy both conditions reach on average)."""

    widths: tuple[int, ...]
    n_train: int
    normal: TrainingRun
    frozen: TrainingRun
    target_fraction: float

    @property
    def target(self) -> float:
        """The accuracy the epochs-to-target count: ``target_fraction`` x the lower mean final learning-curve
        accuracy of the two conditions."""
        return self.target_fraction * min(float(run.test_accuracy[:, -1].mean()) for run in (self.normal, self.frozen))

    def accuracy_gap(self) -> tuple[float, float]:
        """Normal minus frozen final (binary) test accuracy, mean over network pairs and its standard error."""
        return paired_difference(self.normal.final_accuracy, self.frozen.final_accuracy)

    def epoch_gap(self) -> tuple[float, float]:
        """Normal minus frozen epochs to the target, mean over network pairs and its standard error
        (positive: the frozen networks get there sooner)."""
        return paired_difference(self.normal.epochs_to(self.target), self.frozen.epochs_to(self.target))

    def summary(self) -> str:
        lines = []
        for name in CONDITIONS:
            run = getattr(self, name)
            epochs = run.epochs_to(self.target)
            n_epochs = run.test_accuracy.shape[1]
            final, error = run.final()
            lines.append(f"{name:6s}: final test accuracy {final:.4f} ± {error:.4f}; epochs to "
                         f"{self.target:.3f}: {epochs.mean():.2f} ({np.sum(epochs <= n_epochs)} of {epochs.size} "
                         f"networks reach it); wall time {run.wall_time:.1f} s, CPU time {run.cpu_time:.1f} s")
        gap, epoch_gap = self.accuracy_gap(), self.epoch_gap()
        lines.append(f"normal - frozen: accuracy {gap[0]:+.4f} ± {gap[1]:.4f}, epochs to target "
                     f"{epoch_gap[0]:+.2f} ± {epoch_gap[1]:.2f} (paired over {self.normal.final_accuracy.size} networks)")
        return "\n".join(lines)


def _check(widths, n_networks: int, n_draws: int, target_fraction: float) -> None:
    interior_layers(widths)
    if n_networks < 2 or n_draws < 1:
        raise ValueError(f"need n_networks >= 2 (for error bars) and n_draws >= 1; got n_networks={n_networks}, "
                         f"n_draws={n_draws}")
    if not 0 < target_fraction <= 1:
        raise ValueError(f"target_fraction must lie in (0, 1]; got {target_fraction}")


def _timed_run(frozen, widths, x_train, y_train, x_test, y_test, n_networks, epochs, lr, seed, batch_size, l2,
               n_draws, dtype, device, progress) -> dict:
    """Train one condition, then measure its networks as binary networks; the histories as tensors."""
    start, start_cpu = time.perf_counter(), time.process_time()
    ensemble = binary.train_ensemble(widths, x_train, y_train, x_test, y_test, n_networks, epochs, lr=lr,
                                     batch_size=batch_size, l2=l2, seed=seed, dtype=dtype, device=device,
                                     progress=progress, frozen=frozen)
    wall_time, cpu_time = time.perf_counter() - start, time.process_time() - start_cpu
    final = binary.network_accuracy(ensemble, x_test, y_test, n_draws, seed)
    return {"test_accuracy": ensemble.test_accuracy, "train_loss": ensemble.train_loss,
            "final_accuracy": final.cpu().to(torch.float64), "wall_time": wall_time, "cpu_time": cpu_time}


def freezing_experiment(widths: Sequence[int], x_train: torch.Tensor, y_train: torch.Tensor, x_test: torch.Tensor,
                        y_test: torch.Tensor, n_networks: int, epochs: int, lr: float, seed: int,
                        batch_size: int = 200, l2: float = 1e-5, n_draws: int = 20, target_fraction: float = 0.98,
                        dtype: torch.dtype = torch.float32, device: str | torch.device = "auto",
                        progress: bool = True, root: str | Path | None = None) -> FreezingExperiment:
    """Fig. 11 of Zou & Huang (§IV.6): ``n_networks`` networks of architecture ``widths`` trained for
    ``epochs`` epochs normally, and the same networks (same seed: same initial LB and RB fields,
    minibatches and noise) with the interior frozen at random ±1 weights (:func:`frozen_interior`, drawn
    with ``seed``). Training as :func:`adaptsym.binary.train_ensemble` (Adam at ``lr``, minibatches of
    ``batch_size``, L2 ``l2``); the final accuracy of a network is the mean test accuracy of ``n_draws``
    binary networks drawn from its fields. Computed once and then read from the cache (``root``,
    default ``cache_root("ensembles")``): the times are those of the run that filled the cache."""
    widths = binary.check_widths(widths)
    _check(widths, n_networks, n_draws, target_fraction)

    def compute() -> dict:
        # the first training call of a process pays one-off set-up costs (seconds): not to either condition
        binary.train_ensemble(widths, x_train[:batch_size], y_train[:batch_size], x_test, y_test, 1, 1, lr=lr,
                              batch_size=batch_size, dtype=dtype, device=device, progress=False)
        runs = {}
        for name in CONDITIONS:
            frozen = frozen_interior(widths, n_networks, seed) if name == "frozen" else None
            runs[name] = _timed_run(frozen, widths, x_train, y_train, x_test, y_test, n_networks, epochs, lr, seed,
                                    batch_size, l2, n_draws, dtype, device, progress)
        return runs

    key = {"widths": list(widths), "n_networks": n_networks, "epochs": epochs, "lr": lr, "seed": seed,
           "batch_size": batch_size, "l2": l2, "n_draws": n_draws, "dtype": str(dtype),
           "data": data_fingerprint(x_train, y_train, x_test, y_test)}
    state = cached("freezing", key, compute, root)
    runs = {name: TrainingRun(*(state[name][field].numpy() for field in ("test_accuracy", "train_loss",
                                                                          "final_accuracy")),
                              float(state[name]["wall_time"]), float(state[name]["cpu_time"])) for name in CONDITIONS}
    return FreezingExperiment(widths, len(x_train), runs["normal"], runs["frozen"], target_fraction)


FREEZING_CRITERION = (f"normal minus frozen final test accuracy (paired over networks) below {FREEZING_TOLERANCE} "
                      f"by more than {FREEZING_K:g} standard errors; disagrees when above it by more than "
                      f"{FREEZING_K:g} standard errors")


def freezing_works(experiment: FreezingExperiment, tolerance: float = FREEZING_TOLERANCE,
                   k: float = FREEZING_K) -> bool | None:
    """Verdict of "freezing the interior at random works in practice" (§IV.6, Fig. 11), an equivalence
    test: agrees when the accuracy lost by freezing, normal minus frozen (paired), stays below
    ``tolerance`` by ``k`` standard errors; disagrees when it exceeds ``tolerance`` by ``k`` standard
    errors; inconclusive in between."""
    gap, error = experiment.accuracy_gap()
    if gap + k * error <= tolerance:
        return True
    return False if gap - k * error > tolerance else None


FASTER_CRITERION = (f"frozen networks reach the target accuracy in fewer epochs than their normally trained twins "
                    f"by more than {FREEZING_K:g} standard errors (paired); disagrees when in more epochs by more "
                    f"than {FREEZING_K:g}")


def freezing_is_faster(experiment: FreezingExperiment, k: float = FREEZING_K) -> bool | None:
    """Verdict of "the training would become fast" (§IV.6): agrees when the frozen networks reach the
    target accuracy in fewer epochs than their twins by ``k`` standard errors of the paired difference,
    disagrees when in more epochs by ``k`` standard errors, inconclusive otherwise. (The paper's reason,
    that "the ITR does not need learning", is a saving per step; the wall times are reported beside.)"""
    gap, error = experiment.epoch_gap()
    if gap > k * error:
        return True
    return False if gap < -k * error else None
