"""Zou & Huang's own published data: the moments of their ensembles, the Ising models they fitted per region,
and 100 of their MNIST configurations (the data folder of their repository, github.com/ZouWenXuan/
Liquid-like-deep-learning; data only, none of their code).

The folder is found at ``root`` if given, else ``$ADAPTSYM_ZH_DATA``, else ``../shared/zou-huang`` beside a source
checkout.  Its layout: ``data_moments/<scenario>/{mi,Ca}_data.txt``, ``Ising_model/<scenario>/{J,h}_<region>.txt``
(their ITR is spelled ITER) and ``configurations/under-para-100.npy`` (the test accuracy in the first column, then
675 columns of ±1; the shared folder's README says the accuracy comes last, but the file has it first).
Every loader checks shapes and ranges and names the file it refuses.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from adaptsym import binary, ising
from adaptsym.checks import check_choice
from adaptsym.models import count_weights
from adaptsym.profiles import REPO_ROOT

DATA_ENV = "ADAPTSYM_ZH_DATA"
SCENARIOS = ("under-para", "over-para", "shallow", "fashion")
WIDTHS = {"under-para": (20, 15, 15, 10), "over-para": (20, 15, 15, 10), "shallow": (20, 10),
          "fashion": (20, 15, 15, 10)}
FILE_REGION = {"LB": "LB", "ITR": "ITER", "RB": "RB", "FULL": "FULL"}
N_CONFIGURATIONS = 2_000_000
"""Configurations of each of the authors' ensembles, one per independently trained network (§II: 'two million
weight configurations')."""
HOW_TO_GET = (f"clone github.com/ZouWenXuan/Liquid-like-deep-learning and set ${DATA_ENV} to its data folder "
              "(or pass root=)")


def data_root(root: str | Path | None = None) -> Path | None:
    """The authors' data folder: ``root``, ``$ADAPTSYM_ZH_DATA`` or ``../shared/zou-huang``; None when none exists
    (a given ``root`` or ``$ADAPTSYM_ZH_DATA`` that does not exist is a FileNotFoundError)."""
    chosen = root if root is not None else os.environ.get(DATA_ENV)
    if chosen:
        path = Path(chosen)
        if not path.is_dir():
            raise FileNotFoundError(f"no folder {path} for Zou & Huang's data; {HOW_TO_GET}")
        return path
    shared = REPO_ROOT.parent / "shared" / "zou-huang"
    return shared if shared.is_dir() else None


def _folder(root) -> Path:
    found = data_root(root)
    if found is None:
        raise FileNotFoundError(f"Zou & Huang's data are not on this machine: {HOW_TO_GET}")
    return found


def _read(path: Path, shape: tuple[int, ...]) -> np.ndarray:
    """A finite float64 array of ``shape`` from a whitespace-separated text file, or a ValueError naming it."""
    if not path.is_file():
        raise FileNotFoundError(f"missing file {path} ({HOW_TO_GET})")
    try:
        values = np.loadtxt(path, dtype=np.float64, ndmin=len(shape))
    except ValueError as error:
        raise ValueError(f"{path} is not a table of numbers: {error}") from None
    if values.shape != shape:
        raise ValueError(f"{path} has shape {values.shape}, expected {shape}")
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{path} holds NaN or infinite values")
    return values


def n_spins(scenario: str) -> int:
    """Weights of the scenario's network: 675 (deep 20-15-15-10) or 200 (shallow 20-10)."""
    check_choice(scenario, SCENARIOS, "scenario")
    return count_weights(WIDTHS[scenario])


def region_slice(scenario: str, region: str) -> slice:
    """The region's weights in the scenario's flattened order (LB 0-299, ITR 300-524, RB 525-674 for 20-15-15-10)."""
    check_choice(region, binary.REGIONS, "region")
    return binary.region_slices(WIDTHS[scenario])[region]


def load_moments(scenario: str, root: str | Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The ensemble's magnetisations m (N,) and raw pair moments C (N, N) (C_ii = 1), checked: |m| <= 1, C
    symmetric with unit diagonal and |C| <= 1."""
    folder, n = _folder(root) / "data_moments" / scenario, n_spins(scenario)
    m, C = _read(folder / "mi_data.txt", (n,)), _read(folder / "Ca_data.txt", (n, n))
    if np.abs(m).max() > 1:
        raise ValueError(f"{folder / 'mi_data.txt'}: magnetisations of ±1 spins lie in [-1, 1]")
    if np.abs(C - C.T).max() > 1e-9 or np.abs(np.diag(C) - 1).max() > 1e-9 or np.abs(C).max() > 1 + 1e-9:
        raise ValueError(f"{folder / 'Ca_data.txt'}: pair moments must be symmetric, in [-1, 1], with unit diagonal")
    return m, C


def load_model(scenario: str, region: str, root: str | Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The authors' fitted couplings J (N, N) and fields h (N,) of one region (FULL only for the shallow net)."""
    folder, part = _folder(root) / "Ising_model" / scenario, region_slice(scenario, region)
    n = part.stop - part.start
    J = _read(folder / f"J_{FILE_REGION[region]}.txt", (n, n))
    h = _read(folder / f"h_{FILE_REGION[region]}.txt", (n,))
    if np.abs(J - J.T).max() > 1e-9:
        raise ValueError(f"{folder / f'J_{FILE_REGION[region]}.txt'}: couplings must be symmetric")
    return J, h


def load_configurations(root: str | Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """100 of the authors' MNIST under-parameterised configurations: spins (100, 675) int8 and test accuracies."""
    path = _folder(root) / "configurations" / "under-para-100.npy"
    if not path.is_file():
        raise FileNotFoundError(f"missing file {path} ({HOW_TO_GET})")
    table = np.load(path, allow_pickle=False)
    n = n_spins("under-para")
    if table.ndim != 2 or table.shape[1] != n + 1:
        raise ValueError(f"{path} has shape {table.shape}, expected (configurations, {n + 1})")
    accuracy, spins = table[:, 0], table[:, 1:]
    if not np.all(np.isin(spins, (-1, 1))) or not np.all((0 <= accuracy) & (accuracy <= 1)):
        raise ValueError(f"{path}: the first column must be an accuracy in [0, 1] and the other {n} columns ±1")
    return spins.astype(np.int8), accuracy


@dataclass(frozen=True)
class PublishedRegion:
    """One region of one of the authors' scenarios, measured with the chapter's diagnostics: the leading
    correlation eigenvalue and eigenvector against the noise edge of ``N_CONFIGURATIONS`` configurations, the BP
    moments of the authors' own model against their own data (RMSE) beside independent spins, and the overlap of
    the BP fixed point reached from the independent start with the one reached from its flip (near -1: BP holds
    two opposite states, an ordered model; near +1: one state)."""

    scenario: str
    region: str
    moments: tuple[np.ndarray, np.ndarray]
    model_moments: tuple[np.ndarray, np.ndarray]
    mode: tuple[float, np.ndarray]
    noise_edge: float
    rmse_model: float
    rmse_independent: float
    bp_converged: bool
    flip_overlap: float


def published_region(scenario: str, region: str, root=None, bp_max_iter: int = 1000, damping: float = 0.5,
                     moments: tuple[np.ndarray, np.ndarray] | None = None) -> PublishedRegion:
    """The diagnostics of :class:`PublishedRegion` on the authors' moments and model of one region; ``moments`` are
    the scenario's (m, C) when already loaded (:func:`load_moments`)."""
    m_all, C_all = load_moments(scenario, root) if moments is None else moments
    part = region_slice(scenario, region)
    m, C = m_all[part], C_all[part, part]
    J, h = load_model(scenario, region, root)
    m_bp, C_bp, converged, messages = ising.bp_moments(J, h, max_iter=bp_max_iter, damping=damping, tol=1e-8,
                                                       return_messages=True)
    m_flip = ising.bp_moments(J, h, max_iter=bp_max_iter, damping=damping, tol=1e-8, messages=-messages)[0]
    overlap = float(m_bp @ m_flip / max(np.linalg.norm(m_bp) * np.linalg.norm(m_flip), 1e-300))
    return PublishedRegion(scenario, region, (m, C), (m_bp, C_bp), ising.leading_eigenpair(ising.correlation_from_moments(m, C)),
                           ising.noise_edge(len(m), N_CONFIGURATIONS), ising.moment_rmse(m, C, m_bp, C_bp),
                           ising.moment_rmse(m, C, m, np.outer(m, m)), bool(converged), overlap)


def regions_of(scenario: str) -> list[str]:
    """The regions with a published model: LB, ITR, RB for the deep nets, FULL for the shallow one."""
    return ["FULL"] if scenario == "shallow" else ["LB", "ITR", "RB"]


def published_regions(scenarios, root=None, bp_max_iter: int = 1000) -> dict[tuple[str, str], PublishedRegion]:
    """:func:`published_region` for every region of every scenario, keyed (scenario, region)."""
    found = {}
    for scenario in scenarios:
        moments = load_moments(scenario, root)  # once per scenario: its regions share the 675 x 675 table
        found.update({(scenario, region): published_region(scenario, region, root, bp_max_iter, moments=moments)
                      for region in regions_of(scenario)})
    return found


def published_table(found: dict[tuple[str, str], PublishedRegion]) -> tuple[list[str], list[list]]:
    """Headers and rows of the diagnostics of the authors' data, one row per region."""
    headers = ["scenario", "region", "λ₁ of the correlations", "noise edge", "BP RMSE of their model",
               "independent spins", "BP converged", "overlap with the flipped start"]
    return headers, [[p.scenario, p.region, f"{p.mode[0]:.2f}", f"{p.noise_edge:.3f}", f"{p.rmse_model:.4f}",
                      f"{p.rmse_independent:.4f}", str(p.bp_converged), f"{p.flip_overlap:+.3f}"]
                     for p in found.values()]


OUR_SCENARIOS = {"under": "under-para", "over": "over-para", "shallow": "shallow"}
"""Chapter 7's scenarios and the authors' MNIST scenario of the same network."""


def published_note(found: dict[tuple[str, str], PublishedRegion], scenario: str, region: str) -> str:
    """What the authors' own published model of the same scenario and region achieves on their own data (Fig. 3b),
    for the "paper" column of our claim; empty when their data are not on this machine."""
    theirs = found.get((OUR_SCENARIOS.get(scenario, scenario), region))
    if theirs is None:
        return ""
    return (f"; their published {theirs.scenario} {region} model on their data: BP RMSE {theirs.rmse_model:.3f}, "
            f"independent spins {theirs.rmse_independent:.3f}")


def model_beats_independent(region: PublishedRegion) -> bool:
    """Verdict on the authors' Fig. 3b with their own model: its BP moments are closer to their data than the
    independent-spin model's (smaller RMSE)."""
    return bool(region.rmse_model < region.rmse_independent)


def has_collective_mode(region: PublishedRegion) -> bool:
    """Verdict: the leading correlation eigenvalue lies beyond the noise edge."""
    return bool(region.mode[0] > region.noise_edge)


def configuration_projection(region: PublishedRegion, root=None) -> np.ndarray:
    """The authors' 100 under-parameterised configurations projected on the region's leading eigenvector (centred
    by the published magnetisations): one value per configuration."""
    spins, _ = load_configurations(root)
    part = region_slice(region.scenario, region.region)
    return (spins[:, part] - region.moments[0]) @ region.mode[1]
