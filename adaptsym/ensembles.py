"""The weight-space data of Zou & Huang, cached on disk: trained ensembles, drawn configurations
and the Ising models fitted to them.

Collecting configurations means training many networks (§II, appendix D) and fitting Ising
models to hundreds of spins (Sec. III, appendices C, E); both take minutes to hours. Each result
is stored under ``storage.cache_root("ensembles")`` in a file named by the sha256 of everything
that determines it (the parameters and a fingerprint of the data), written atomically, and
reused by the next call with the same inputs. Delete the folder to recompute everything.
"""

import dataclasses
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from filelock import FileLock

from adaptsym import binary, ising
from adaptsym.checks import check_choice
from adaptsym.device import resolve_device
from adaptsym.storage import atomic_write, cache_root, json_digest
from adaptsym.train import data_fingerprint

KEY_DIGITS = 16


def cache_key(kind: str, key: Mapping[str, Any]) -> str:
    """File stem ``kind-<first 16 hex digits of sha256(canonical JSON of key)>``."""
    return f"{kind}-{json_digest(dict(key), KEY_DIGITS)}"


def cached(kind: str, key: Mapping[str, Any], compute: Callable[[], dict], root: str | Path | None = None) -> dict:
    """``compute()`` (a dict of tensors, numbers, strings and lists of them), stored once under
    ``root`` (default ``cache_root("ensembles")``) as ``<cache_key(kind, key)>.pt`` and read back
    on later calls, under a per-file lock: processes sharing the cache compute each value once, the others wait and
    read it. A damaged file is a ValueError naming the file to delete."""
    path = Path(root if root is not None else cache_root("ensembles")) / f"{cache_key(kind, key)}.pt"
    if path.is_file():
        return _load(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(f"{path}.lock"):
        if path.is_file():
            return _load(path)
        value = compute()
        atomic_write(path, lambda handle: torch.save(value, handle))
    return value


def _load(path: Path) -> dict:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise ValueError(f"{path} is unreadable ({type(error).__name__}); delete it to recompute") from error


@dataclasses.dataclass(frozen=True)
class EnsembleSpec:
    """Everything but the data that determines an ensemble of :func:`adaptsym.binary.train_ensemble`."""

    widths: tuple[int, ...]
    n_networks: int
    epochs: int
    lr: float | None = None
    batch_size: int = 200
    l2: float = 1e-5
    seed: int = 0
    weights: str = "binary"
    dtype: str = "float32"

    def __post_init__(self):
        object.__setattr__(self, "widths", binary.check_widths(self.widths))
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"dtype must be 'float32' or 'float64', got {self.dtype!r}")


_ENSEMBLE_FIELDS = [f.name for f in dataclasses.fields(binary.Ensemble)]


def trained_ensemble(spec: EnsembleSpec, x_train: torch.Tensor, y_train: torch.Tensor, x_test: torch.Tensor,
                     y_test: torch.Tensor, root: str | Path | None = None, device: str | torch.device = "auto",
                     progress: bool = True) -> binary.Ensemble:
    """The ensemble that ``train_ensemble`` trains from ``spec`` on these data, trained once and
    then loaded from the cache (parameters on ``device``, histories on the CPU)."""
    def train() -> dict:
        ensemble = binary.train_ensemble(
            spec.widths, x_train, y_train, x_test, y_test, spec.n_networks, spec.epochs, lr=spec.lr,
            batch_size=spec.batch_size, l2=spec.l2, seed=spec.seed, weights=spec.weights,
            dtype=getattr(torch, spec.dtype), device=device, progress=progress)
        state = {name: getattr(ensemble, name) for name in _ENSEMBLE_FIELDS}
        state["params"] = [p.cpu() for p in ensemble.params]
        state["initial_params"] = [p.cpu() for p in ensemble.initial_params]
        return state

    key = {"spec": dataclasses.asdict(spec), "data": data_fingerprint(x_train, y_train, x_test, y_test)}
    state = cached("ensemble", key, train, root)
    device = resolve_device(device)
    return binary.Ensemble(**{**state, "widths": tuple(state["widths"]), "seeds": tuple(state["seeds"]),
                              "params": [p.to(device) for p in state["params"]],
                              "initial_params": [p.to(device) for p in state["initial_params"]]})


def drawn_configurations(ensemble: binary.Ensemble, x_test: torch.Tensor, y_test: torch.Tensor,
                         n_per_network: int, seed: int, best_only: bool = False,
                         root: str | Path | None = None) -> binary.Configurations:
    """All ``n_per_network`` draws per network of :func:`adaptsym.binary.draw_configurations`
    (threshold 0, so every draw is kept with its test accuracy; select with
    ``Configurations.above``), drawn with ``seed`` and cached, keyed by the ensemble's fields and
    the test data. Tensors on the CPU."""
    def draw() -> dict:
        drawn = binary.draw_configurations(ensemble, x_test, y_test, n_per_network, 0.0, seed, best_only)
        return {"weights": drawn.weights.cpu(), "accuracy": drawn.accuracy.cpu(), "network": drawn.network.cpu()}

    key = {"fields": data_fingerprint(*ensemble.params), "data": data_fingerprint(x_test, y_test),
           "n_per_network": n_per_network, "seed": seed, "best_only": best_only}
    return binary.Configurations(ensemble.widths, **cached("configurations", key, draw, root))


def _samples_key(samples: np.ndarray, **parameters) -> dict:
    """Cache key of a fit: a fingerprint of the ±1 samples and the fit's parameters."""
    return {"samples": data_fingerprint(torch.from_numpy(np.ascontiguousarray(samples, dtype=np.int8))),
            **parameters}


def _storable(value: Any) -> Any:
    """Numpy arrays as tensors and numpy scalars as Python numbers, which ``torch.load`` with
    ``weights_only=True`` reads back."""
    if isinstance(value, np.ndarray):
        return torch.from_numpy(value)
    return value.item() if isinstance(value, np.generic) else value


def fitted_boltzmann(samples: np.ndarray, root: str | Path | None = None, progress: bool = True,
                     **fit_options) -> ising.BoltzmannFit:
    """:func:`adaptsym.ising.fit_boltzmann` on the moments of ``samples`` (n, N), cached;
    ``fit_options`` are passed on (and are part of the key)."""
    def fit() -> dict:
        result = ising.fit_boltzmann(*ising.sample_moments(samples), progress=progress, **fit_options)
        return {name: _storable(value) for name, value in dataclasses.asdict(result).items()}

    state = cached("boltzmann", _samples_key(samples, **fit_options), fit, root)
    return ising.BoltzmannFit(**{name: value.numpy() if isinstance(value, torch.Tensor) else value
                                 for name, value in state.items()})


def fitted_pseudolikelihood(samples: np.ndarray, root: str | Path | None = None, progress: bool = True,
                            **fit_options) -> tuple[np.ndarray, np.ndarray]:
    """``(J, h)`` of :func:`adaptsym.ising.fit_pseudolikelihood` on ``samples``, cached."""
    def fit() -> dict:
        J, h = ising.fit_pseudolikelihood(samples, progress=progress, **fit_options)
        return {"J": torch.from_numpy(J), "h": torch.from_numpy(h)}

    state = cached("pseudolikelihood", _samples_key(samples, **fit_options), fit, root)
    return state["J"].numpy(), state["h"].numpy()


def region_samples(configurations: binary.Configurations, region: str) -> np.ndarray:
    """The ±1 weights of one region (LB, ITR, RB or FULL; Zou & Huang Sec. III) of every
    configuration, an int8 numpy array (M, region size)."""
    slices = binary.region_slices(configurations.widths)
    check_choice(region, binary.REGIONS, "region")
    part = configurations.weights[:, slices[region]]
    if part.shape[1] == 0:
        raise ValueError(f"region {region} is empty for widths {configurations.widths}")
    return part.cpu().numpy()
