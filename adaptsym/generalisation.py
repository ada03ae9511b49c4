"""Zou & Huang's appendices F and G, test error against model size: deep against shallow binary
networks (App. G, Fig. 18) and double descent for real but not for binary weights (App. F, Fig. 17).
Each comparison is judged with the standard errors of its ensemble of networks; the verdict rules
return True, False or None (inconclusive)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from adaptsym import binary
from adaptsym.ensembles import EnsembleSpec, trained_ensemble

N_DRAWS = 20
"""Binary networks drawn per trained network to measure its accuracy, as in the authors' code."""


def network_accuracies(task, widths, n_train: int, epochs: int, n_networks: int, seed: int, weights: str = "binary",
                       lr: float | None = None, batch_size: int = 200, x=None, y=None) -> np.ndarray:
    """Accuracy (n_networks,) on (x, y) (default: the test set) of a (cached) ensemble trained on the
    first ``n_train`` examples; a binary network's accuracy is the mean over ``N_DRAWS`` draws from its
    fields (:func:`adaptsym.binary.network_accuracy`)."""
    spec = EnsembleSpec(tuple(widths), n_networks, epochs, lr=lr, batch_size=batch_size, weights=weights, seed=seed)
    trained = trained_ensemble(spec, task.x_train[:n_train], task.y_train[:n_train], task.x_test, task.y_test)
    x, y = (task.x_test, task.y_test) if x is None else (x, y)
    return binary.network_accuracy(trained, x, y, N_DRAWS, seed).double().cpu().numpy()


@dataclass(frozen=True)
class DepthComparison:
    """App. G: the deep networks' accuracy (widths, networks) against the shallow one's (networks),
    the mean gap per width and its standard error, and the width from which deep is better at every
    larger width by more than 2 standard errors (None if there is none)."""

    widths: list[int]
    deep: np.ndarray
    shallow: np.ndarray
    gaps: np.ndarray
    gap_errors: np.ndarray
    crossing: int | None

    def summary(self) -> str:
        if self.crossing is None:
            return "no width from which deep is always better"
        return (f"deep minus shallow: {np.round(self.gaps, 4).tolist()} (standard errors "
                f"{np.round(self.gap_errors, 4).tolist()}); deep is better at every width from {self.crossing} on")


def depth_comparison(widths, deep: np.ndarray, shallow: np.ndarray) -> DepthComparison:
    """The gap deep minus shallow per width, with the standard error of a difference of two means."""
    gaps = deep.mean(1) - shallow.mean()
    gap_errors = np.hypot(deep.std(1, ddof=1), shallow.std(ddof=1)) / np.sqrt(deep.shape[1])
    better = gaps > 2 * gap_errors
    crossing = next((w for i, w in enumerate(widths) if better[i:].all()), None)
    return DepthComparison(list(widths), deep, shallow, gaps, gap_errors, crossing)


def deep_against_shallow(task, pca_k: int, widths, n_train: int, epochs: int, n_networks: int, lr: float,
                         seed: int) -> DepthComparison:
    """App. G: accuracies of ``n_networks`` deep networks pca_k-n-n-10 per hidden width n and of the
    shallow pca_k-10 network, trained identically on ``n_train`` examples."""
    shallow = network_accuracies(task, (pca_k, 10), n_train, epochs, n_networks, seed, lr=lr)
    deep = np.array([network_accuracies(task, deep_widths(pca_k, w), n_train, epochs, n_networks, seed, lr=lr)
                     for w in widths])
    return depth_comparison(widths, deep, shallow)


DEPTH_CRITERION = "the gap at the widest net beyond 2 standard errors, with at least 8 networks per architecture"


def deep_beats_shallow(comparison: DepthComparison, min_networks: int = 8) -> bool | None:
    """Verdict at the widest network: decided when the gap is beyond 2 standard errors with at least
    ``min_networks`` networks per architecture."""
    gap, error = comparison.gaps[-1], comparison.gap_errors[-1]
    return (bool(gap > 0) if abs(gap) > 2 * error else None) if comparison.deep.shape[1] >= min_networks else None


def standard_errors(errors: np.ndarray) -> np.ndarray:
    """Standard error of the mean over the networks (axis 1)."""
    return errors.std(1, ddof=1) / np.sqrt(errors.shape[1])


def largest_rise(mean: np.ndarray, error: np.ndarray) -> float:
    """The largest rise of a test error over its minimum at smaller sizes, in standard errors of the
    larger size's mean (App. F: > 2 would be a peak)."""
    return max((mean[i] - mean[:i].min()) / max(error[i], 1e-12) for i in range(1, len(mean)))


def double_descent_peak(mean: np.ndarray, error: np.ndarray) -> float:
    """The highest peak of a test error above the best errors on *both* sides (a peak followed by a
    second descent), in standard errors; NaN with fewer than 3 sizes."""
    if len(mean) < 3:
        return np.nan
    return max((mean[i] - max(mean[:i].min(), mean[i + 1:].min())) / max(error[i], 1e-12)
               for i in range(1, len(mean) - 1))


NO_DOUBLE_DESCENT_CRITERION = ("no rise of the binary test error beyond 2 standard errors; decided when real-valued "
                               "nets interpolate at some width")
DOUBLE_DESCENT_CRITERION = ("a real-valued test-error peak beyond 2 standard errors above both sides; decided when "
                            "real-valued nets interpolate at some width")


def no_double_descent(rise: float, interpolates: bool) -> bool | None:
    """Verdict of "binary test error keeps decreasing": no rise beyond 2 standard errors; decided only
    if the real-valued networks interpolate at some width."""
    return bool(rise <= 2) if interpolates else None


def has_double_descent(peak: float, interpolates: bool) -> bool | None:
    """Verdict of "real-valued nets show a test-error peak": a peak beyond 2 standard errors; decided
    only if they interpolate at some width."""
    return bool(peak > 2) if interpolates and np.isfinite(peak) else None


def deep_widths(pca_k: int, width: int) -> tuple[int, ...]:
    """The deep network pca_k-n-n-10 of appendices F and G."""
    return (pca_k, width, width, 10)


def error_curves(task, pca_k: int, widths, n_train: int, epochs: int, n_networks: int, batch_size: int,
                 learning_rates: dict[str, float], seed: int) -> dict[tuple[str, str], np.ndarray]:
    """App. F: (weights kind, split) -> error (widths, networks) of deep networks pca_k-n-n-10 trained on
    ``n_train`` examples, for each kind ("binary", "real") with its learning rate, on the training
    and the test split."""
    splits = {"train": (task.x_train[:n_train], task.y_train[:n_train]), "test": (task.x_test, task.y_test)}
    return {(kind, split): np.array([1 - network_accuracies(task, deep_widths(pca_k, w), n_train, epochs, n_networks,
                                                            seed, kind, lr, batch_size, x, y) for w in widths])
            for kind, lr in learning_rates.items() for split, (x, y) in splits.items()}


@dataclass(frozen=True)
class DoubleDescent:
    """App. F's reading of the error curves: the widths at which real-valued nets interpolate (zero
    training error), the binary test error's largest rise and the real test error's highest peak."""

    interpolating_widths: list[int]
    rise: float
    peak: float

    @property
    def interpolates(self) -> bool:
        return bool(self.interpolating_widths)


def double_descent(widths, errors: dict[tuple[str, str], np.ndarray]) -> DoubleDescent:
    """:func:`largest_rise` of the binary test error and :func:`double_descent_peak` of the real one."""
    interpolates = errors["real", "train"].mean(1) == 0
    binary_test, real_test = errors["binary", "test"], errors["real", "test"]
    return DoubleDescent(np.array(widths)[interpolates].tolist(),
                         largest_rise(binary_test.mean(1), standard_errors(binary_test)),
                         double_descent_peak(real_test.mean(1), standard_errors(real_test)))
