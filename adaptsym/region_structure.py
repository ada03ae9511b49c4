"""What Zou & Huang say of the regions of a deep binary network, measured on an ensemble or on a fitted model:
the boundaries' fields grouped by the unit they share, the interior's magnetisation (§III, Fig. 3d), how the
layers' polarities interact (§III: "weights in different layers may not strongly interact"), and whether the
learned configurations form one connected component (§II, Fig. 2b).

Weights are flattened as :func:`adaptsym.binary.flatten_configurations` does, each matrix row-major (out, in):
LB = W1 is (hidden units, inputs) and RB = W3 is (outputs, hidden units).  Hidden units are exchangeable (a
permutation of them leaves the network's function unchanged, appendix J), so over an ensemble the marginal of
W1[k, i] depends on the input i only and that of W3[o, k] on the output o only: the fields of LB fall into one
group per input and those of RB into one group per output.  That is why the number of peaks of their field
histograms tracks the number of inputs and outputs — when the groups are resolved, i.e. when the sampling noise
within a group is smaller than the spacing between groups.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import find_peaks
from scipy.stats import binomtest, gaussian_kde

from adaptsym import ising
from adaptsym.checks import check_choice
from adaptsym.weight_space import BIMODAL_LEVEL, Bimodality, is_bimodal


@dataclass(frozen=True)
class FieldGroups:
    """The values of a region (fields or magnetisations) grouped by the unit each weight shares (``by``: the
    matrix's columns for LB's inputs, rows for RB's outputs): the number of groups, the peaks of the values'
    density at the resolution of the groups (a Gaussian kernel as wide as the spread within a group), the spread
    within a group, the median spacing of the sorted group means, the share of the variance between groups and
    its 99th percentile when the weights are assigned to groups at random."""

    n_groups: int
    n_peaks: int
    within: float
    spacing: float
    share: float
    null_share: float


def _between_share(matrix: np.ndarray, axis: int) -> float:
    """The share of the variance of ``matrix`` carried by the means along ``axis`` (an R^2 of the grouping)."""
    within = ((matrix - matrix.mean(axis, keepdims=True)) ** 2).mean()
    return float(1.0 - within / matrix.var())


def density_peaks(values: np.ndarray, width: float, n_grid: int = 4000) -> int:
    """The number of local maxima of a Gaussian kernel density of ``values`` with kernel width ``width``."""
    values = np.asarray(values, dtype=np.float64)
    if width <= 0:
        raise ValueError(f"the kernel width must be positive, got {width}")
    density = gaussian_kde(values, bw_method=width / values.std())
    grid = np.linspace(values.min() - 3 * width, values.max() + 3 * width, n_grid)
    return len(find_peaks(density(grid))[0])


def field_groups(values, n_rows: int, n_columns: int, by: str, n_permutations: int = 200,
                 seed: int = 0) -> FieldGroups:
    """§III, Fig. 3d: group a region's ``values`` (n_rows * n_columns, row-major) by column (``by="column"``: LB,
    one group per input) or by row (``by="row"``: RB, one group per output), and count the peaks of their
    density at the resolution of the groups."""
    check_choice(by, ("column", "row"), "by")
    values = np.asarray(values, dtype=np.float64)
    if values.size != n_rows * n_columns:
        raise ValueError(f"{values.size} values do not fill a {n_rows} x {n_columns} matrix")
    matrix = values.reshape(n_rows, n_columns)
    axis = 0 if by == "column" else 1
    means = np.sort(matrix.mean(axis))
    within = float(np.sqrt(((matrix - matrix.mean(axis, keepdims=True)) ** 2).mean()))
    rng = np.random.default_rng(seed)
    null = [_between_share(rng.permutation(values).reshape(n_rows, n_columns), axis) for _ in range(n_permutations)]
    return FieldGroups(means.size, density_peaks(values, max(within, 1e-6 * values.std())), within,
                       float(np.median(np.diff(means))), _between_share(matrix, axis), float(np.quantile(null, 0.99)))


PEAKS_CRITERION = ("peaks within 25% of the number of units; decided when the groups are resolved (spread within a "
                   "group below half the median spacing of the group means)")


def peaks_match_units(groups: FieldGroups) -> bool | None:
    """Verdict of "the number of peaks of the fields approximately corresponds to the number of input (output)
    neurons" (§III): within 25% of the number of groups; None when the sampling noise within a group exceeds half
    the spacing between groups, so that no count of peaks could resolve them."""
    if groups.within > groups.spacing / 2:
        return None
    return bool(abs(groups.n_peaks - groups.n_groups) <= 0.25 * groups.n_groups)


GROUPED_CRITERION = "between-group share of the variance above its 99th percentile under random groupings"


def grouped_by_unit(groups: FieldGroups) -> bool:
    """Verdict of "the fields are grouped by the unit they share" (hidden-unit exchangeability)."""
    return groups.share > groups.null_share


def boundary_units(region: str, widths) -> tuple[int, int, str]:
    """(rows, columns, grouping) of a boundary region's weight matrix for :func:`field_groups`: LB = W1 is
    (hidden, inputs), grouped by input (column); RB = the last matrix is (outputs, hidden), grouped by output (row)."""
    check_choice(region, ("LB", "RB"), "region")
    return (widths[1], widths[0], "column") if region == "LB" else (widths[-1], widths[-2], "row")


NEAR_ZERO_CRITERION = "ITR's mean |m_i| below LB's and RB's"


def record_field_groups(ledger, found: FieldGroups, region: str, source: str) -> None:
    """Record the two claims on a boundary region's fields (§III, Fig. 3d): the paper's count of peaks, and the
    grouping by unit that hidden-unit exchangeability forces (``source`` names the ensemble and model)."""
    unit = "inputs" if region == "LB" else "outputs"
    ledger.record(f"{region} field peaks as many as its {unit} ({source})",
                  f"the number of peaks of the {region} fields approximately corresponds to the number of {unit} "
                  "(§III, Fig. 3d)", found.n_peaks, peaks_match_units(found), kind="paper", criterion=PEAKS_CRITERION,
                  detail=f"{found.n_groups} {unit}; spread within a unit {found.within:.4f}, median spacing of the "
                         f"units {found.spacing:.4f}")
    ledger.record(f"{region} fields grouped by their {unit[:-1]} ({source})",
                  "not in the paper: hidden-unit exchangeability (App. J) groups them", found.share,
                  grouped_by_unit(found), kind="ours", criterion=GROUPED_CRITERION,
                  detail=f"share of the fields' variance between the {found.n_groups} groups; random groupings: "
                         f"99th percentile {found.null_share:.3f}")


def mean_abs(values) -> float:
    """Mean |value|, e.g. of a region's magnetisations."""
    return float(np.mean(np.abs(values)))


@dataclass(frozen=True)
class Concordance:
    """How often two regions' polarities agree over the networks (up to the arbitrary signs of their modes:
    ``agreeing`` is the larger of the agreeing and the disagreeing counts), and the two-sided binomial p-value of
    the agreeing count under independent polarities (each agreement a fair coin)."""

    agreeing: int
    n_networks: int
    p_value: float

    @property
    def fraction(self) -> float:
        return self.agreeing / self.n_networks


def polarity_concordance(projection_a, projection_b) -> Concordance:
    """§III: do two layers choose their polarities independently?  ``projection_a`` and ``projection_b`` are the
    networks' mean projections on each region's leading mode (one value per network, the same networks)."""
    a, b = np.asarray(projection_a), np.asarray(projection_b)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"need one projection per network for both regions, got shapes {a.shape} and {b.shape}")
    same = int(np.sum(np.sign(a) == np.sign(b)))
    agreeing = max(same, a.size - same)
    return Concordance(agreeing, a.size, float(binomtest(same, a.size, 0.5).pvalue))


def layer_concordances(region_models: dict, split: set, scenarios=("under", "over")) -> dict[str, Concordance | None]:
    """Per deep scenario, :func:`polarity_concordance` of its LB and RB models (``region_models[scenario, region]``,
    :class:`adaptsym.weight_space.RegionModel`), from the networks' mean projections on each region's leading mode;
    None where LB and RB are not both in ``split`` (the keys of the regions split into polarities)."""
    def projection(model):
        return ising.group_mean_projection(model.samples, model.groups, model.mode[1])

    return {name: polarity_concordance(projection(region_models[name, "LB"]), projection(region_models[name, "RB"]))
            if {(name, "LB"), (name, "RB")} <= set(split) else None for name in scenarios}


INDEPENDENT_LEVEL = 0.01
WEAK_INTERACTION_CRITERION = (f"LB and RB polarities independent: binomial p of their agreement >= {INDEPENDENT_LEVEL}; "
                              "decided when both regions are split into polarities")


def layers_weakly_interact(concordance: Concordance | None) -> bool | None:
    """Verdict of "weights in different layers may not strongly interact" (§III) on the polarities: their agreement
    is no more frequent than chance would make it; None when the regions have no polarities to compare."""
    return None if concordance is None else concordance.p_value >= INDEPENDENT_LEVEL


ONE_COMPONENT_CRITERION = (f"the learned configurations (one per network) are not bimodal along their leading principal "
                           f"axis: not (ΔBIC > 0 and bootstrap p < {BIMODAL_LEVEL})")


def one_component(test: Bimodality) -> bool:
    """Verdict of "the weight space realising the task seems organised into a large connected component" (§II,
    Fig. 2b), on the learned configurations' projections on their leading principal axis: one mode, not two."""
    return not is_bimodal(test)
