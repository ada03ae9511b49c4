"""Circuit symmetry measured on a training run (Li §II.4.2, eq. 14, Fig. 3).

Li's claim: every weight starts from a symmetric law, and training breaks the symmetry of only a few of them, so
the laws of the weights stay nearly symmetric ("only slightly skews", Fig. 3a); products of weights and weakly
correlated gates — basis circuits and their perturbations — then inherit a composite symmetry,
mu(psi) ~ mu(-psi) (eq. 14, Fig. 3b).  This module measures each part of that argument on a
:class:`~adaptsym.reference.ReferenceRun`; the statistics themselves live in :mod:`adaptsym.symmetry`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch
from IPython.display import Markdown
from torch import nn

from adaptsym.circuits import sample_circuits
from adaptsym.models import relu_mlp
from adaptsym.progress import progress_bar
from adaptsym.reference import ReferenceRun
from adaptsym.symmetry import gate_correlations, sign_change_fraction, smoothed_density, symmetry_stats
from adaptsym.tables import markdown_table, plus_minus

STAT_KEYS = ("mean_over_std", "skewness", "reflection_ks")


def weight_symmetry_table(ref: ReferenceRun, n_boot: int = 100, max_samples: int = 50_000,
                          seed: int = 0, progress: bool = True) -> list[dict[str, Any]]:
    """Fig. 3a in numbers: per layer and snapshot, the symmetry statistics of the weights w_t and of their
    change w_t - w_0, and the fraction of weights whose sign changed since initialisation.

    Each row holds ``layer`` (1 = input layer), ``epoch``, ``w`` and ``change`` (dicts of
    :func:`adaptsym.symmetry.symmetry_stats`, with bootstrap standard errors and the sign-flip test of symmetry)
    and ``sign_changed``.  The change is undefined at epoch 0 (None).
    """
    initial = ref.weights(0)
    rows = []
    cells = [(layer, epoch) for epoch in ref.epochs for layer in range(len(initial))]
    for layer, epoch in progress_bar(cells, desc="weight symmetry", disable=not progress):
        w0, wt = initial[layer], ref.weights(epoch)[layer]
        stats = dict(n_boot=n_boot, max_samples=max_samples, seed=seed)
        rows.append({"layer": layer + 1, "epoch": epoch, "w": symmetry_stats(wt, **stats),
                     "change": symmetry_stats(wt - w0, **stats) if epoch else None,
                     "sign_changed": sign_change_fraction(w0, wt)})
    return rows


def weight_densities(ref: ReferenceRun, points: int = 301, span: float = 4.0) -> list[tuple[np.ndarray, list[np.ndarray]]]:
    """Fig. 3a: per layer, a grid of +-``span`` initial standard deviations and the smoothed weight density at
    every snapshot (the paper's "smoothed histograms ... with a Gaussian kernel"; Silverman's bandwidth
    1.06 sigma n^(-1/5), at least two bins)."""
    out = []
    for layer, w0 in enumerate(ref.weights(0)):
        half = span * float(w0.std())
        grid = np.linspace(-half, half, points)
        bandwidth = max(2 * (grid[1] - grid[0]), 1.06 * float(w0.std()) * w0.numel() ** -0.2)
        out.append((grid, [smoothed_density(ref.weights(e)[layer], grid, bandwidth) for e in ref.epochs]))
    return out


@dataclass(frozen=True)
class SampledCircuits:
    """Fig. 3b: uniformly sampled circuits (order 0) and first/second-order perturbations at one network.

    ``values[order][k]`` are the open (non-zero) sampled values for seed ``seeds[k]``; ``stats[order][k]`` their
    symmetry statistics; ``open_fraction[order][k]`` the share of samples whose gates were all open.
    """

    seeds: tuple[int, ...]
    values: dict[int, list[np.ndarray]]
    stats: dict[int, list[dict[str, float]]]
    open_fraction: dict[int, list[float]]

    def spread(self, order: int, key: str) -> tuple[float, float]:
        """Mean and standard deviation over seeds of one statistic."""
        values = np.array([s[key] for s in self.stats[order]])
        return float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else 0.0


def sample_circuit_symmetry(model: nn.Sequential, inputs: torch.Tensor, n: int, seeds: Sequence[int],
                            orders: Sequence[int] = (0, 1, 2), n_boot: int = 100) -> SampledCircuits:
    """Fig. 3b over several seeds: for each seed s, ``n`` uniformly sampled basis circuits (order 0) and first-
    and second-order perturbations (Li eqs. 11, 16, 19; :func:`adaptsym.circuits.sample_circuits`) at the input
    ``inputs[s % len(inputs)]``, with the symmetry statistics of the open ones."""
    values: dict[int, list[np.ndarray]] = {k: [] for k in orders}
    stats: dict[int, list[dict[str, float]]] = {k: [] for k in orders}
    opened: dict[int, list[float]] = {k: [] for k in orders}
    for seed in seeds:
        x = inputs[seed % len(inputs)]
        for order in orders:
            sample = sample_circuits(model, x, n, seed, order=order)[0].cpu().to(torch.float64).numpy()
            nonzero = sample[sample != 0]
            values[order].append(nonzero)
            stats[order].append(symmetry_stats(nonzero, n_boot=n_boot, seed=seed))
            opened[order].append(len(nonzero) / n)
    return SampledCircuits(tuple(seeds), values, stats, opened)


def gate_states(model: nn.Sequential, inputs: torch.Tensor, max_units: int = 1024,
                seed: int = 0) -> list[torch.Tensor]:
    """The 0/1 ReLU gates (Li eq. 7) after every ReLU of a bias-free network, each (inputs, units).

    Works for MLPs and CNNs (a convolutional layer's units are its channels x positions); layers with more than
    ``max_units`` units keep a seeded random subset of them.
    """
    generator = torch.Generator().manual_seed(seed)
    states, activation = [], inputs
    with torch.no_grad():
        for module in model:
            activation = module(activation)
            if isinstance(module, nn.ReLU):
                gates = (activation > 0).reshape(len(inputs), -1).to(torch.int8).cpu()
                if gates.shape[1] > max_units:
                    gates = gates[:, torch.randperm(gates.shape[1], generator=generator)[:max_units].sort().values]
                states.append(gates)
    return states


def circuit_network(ref: ReferenceRun, seed: int = 0) -> tuple[nn.Sequential, torch.Tensor, str]:
    """The network whose circuits Fig. 3b samples at initialisation, its inputs, and a line saying which.

    Circuits are paths of an MLP (:mod:`adaptsym.circuits`): the reference network itself when it is one; for
    a CNN with max pooling (not a fixed path sum) a bias-free He-initialised MLP of the same depth, width 512,
    on the flattened images.
    """
    model = ref.model(0)
    if all(isinstance(m, (nn.Linear, nn.ReLU)) for m in model):
        return model, ref.x_train, "the reference network at initialisation"
    depth = sum(isinstance(m, (nn.Linear, nn.Conv2d)) for m in model)
    x = ref.x_train.reshape(len(ref.x_train), -1)
    mlp = relu_mlp([x.shape[1]] + [512] * (depth - 1) + [1], seed=seed, device="cpu")
    return mlp, x, f"a bias-free MLP of the reference network's depth ({depth}), width 512, He initialisation"


def gate_correlation_table(ref: ReferenceRun, epochs: Sequence[int], inputs: torch.Tensor,
                           seed: int = 0) -> list[dict[str, Any]]:
    """The circuit-symmetry theorem's assumption (Li §II.4.2): gates weakly correlated across inputs.

    Per snapshot and hidden layer, :func:`adaptsym.symmetry.gate_correlations` of the gate states over
    ``inputs`` against the shuffled baseline (same firing rates, no correlation)."""
    rows = []
    for epoch in epochs:
        for layer, gates in enumerate(gate_states(ref.model(epoch), inputs), start=1):
            rows.append({"epoch": epoch, "layer": layer, **gate_correlations(gates, seed=seed)})
    return rows


SLIGHT_KS = 0.1
"""Our reading of "only slightly skews" (Li Fig. 3a caption): the laws of w and -w differ by at most 0.1 in
Kolmogorov-Smirnov distance (the largest gap between their distribution functions) beyond the distance that a
sample of the same size from a symmetric law shows (``reflection_ks_null``)."""


def excess_ks(stats: dict[str, float]) -> float:
    """The reflection KS distance beyond its level under exact symmetry (see :data:`SLIGHT_KS`)."""
    return stats["reflection_ks"] - stats["reflection_ks_null"]


def detectably_asymmetric(stats: dict[str, float], k: float = 3.0) -> bool:
    """Whether the reflection KS exceeds its symmetric-null level by more than ``k`` bootstrap standard errors."""
    return excess_ks(stats) > k * stats["reflection_ks_se"]

SIGNIFICANCE = 0.01
"""Level of the sign-flip tests of symmetry, Bonferroni-corrected over the tests of one claim."""


def weight_symmetry_markdown(table: list[dict[str, Any]]) -> Markdown:
    """The rows of :func:`weight_symmetry_table` as a table: one line per layer and snapshot."""
    rows = []
    for row in table:
        w, change = row["w"], row["change"]
        rows.append([row["layer"], row["epoch"], plus_minus(w["mean_over_std"], w["mean_over_std_se"]),
                     plus_minus(w["skewness"], w["skewness_se"]),
                     f"{plus_minus(w['reflection_ks'], w['reflection_ks_se'])} (null {w['reflection_ks_null']:.3f})",
                     f"{w['reflection_p']:.3f}", f"{row['sign_changed']:.3f}",
                     "—" if change is None else plus_minus(change["skewness"], change["skewness_se"]),
                     "—" if change is None else f"{change['reflection_ks']:.3f} (null {change['reflection_ks_null']:.3f})"])
    return markdown_table(["layer", "epoch", "mean/std", "skewness", "KS(w, −w)", "p (symmetric)",
                           "sign changed", "skewness of w−w₀", "KS of w−w₀"], rows)


def weight_symmetry_claims(table: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Li's Fig. 3a statements judged at the last snapshot, each with its criterion (``Ledger.record`` kwargs).

    Whether training skews a law is judged on the change w_T - w_0: the finite initial draw is already slightly
    asymmetric, and the final weights carry that draw.
    """
    last = max(row["epoch"] for row in table)
    start = [row for row in table if row["epoch"] == 0]
    end = [row for row in table if row["epoch"] == last]
    skewed = sum(detectably_asymmetric(row["change"]) for row in end)
    at_start = sum(detectably_asymmetric(row["w"]) for row in start)
    worst = max(end, key=lambda row: excess_ks(row["w"]))
    worst_change = max(end, key=lambda row: excess_ks(row["change"]))
    changed = max(row["sign_changed"] for row in end)
    return [
        dict(name="training skews the weight laws (Fig. 3a)",
             paper="'the weight distributions gradually skew as training progresses' (§II.4.2)",
             measured=skewed, agrees=skewed > 0, kind="paper",
             criterion="at least one layer's change w_T - w_0 is detectably asymmetric",
             detail=f"of {len(end)} layers, those whose change w_T - w_0 at epoch {last} is detectably asymmetric "
                    f"(KS beyond its null level by > 3 SE); initial weights so asymmetric: {at_start}"),
        dict(name="...but only slightly: weight laws stay nearly symmetric (Fig. 3a)",
             paper="'only slightly skews'; 'still approximately symmetric' (§II.4.2, Fig. 3a)",
             measured=excess_ks(worst["w"]), agrees=excess_ks(worst["w"]) <= SLIGHT_KS, kind="paper",
             criterion=f"largest excess KS <= {SLIGHT_KS}",
             detail=f"largest KS(w, -w) beyond its symmetric-null level over layers at epoch {last} "
                    f"(layer {worst['layer']})"),
        dict(name="the change w_T - w_0 is nearly symmetric too",
             paper="not in the paper (ours): training moves weights both ways",
             measured=excess_ks(worst_change["change"]), agrees=excess_ks(worst_change["change"]) <= SLIGHT_KS,
             kind="ours", criterion=f"largest excess KS <= {SLIGHT_KS}",
             detail=f"largest KS of w_T - w_0 beyond its null level over layers (layer {worst_change['layer']})"),
        dict(name="most weights keep their initial sign",
             paper="'the weight symmetry still holds for the majority of the weights' (§II.4.2)",
             measured=changed, agrees=changed < 0.5, kind="paper", criterion="largest share < 0.5",
             detail=f"largest share of weights per layer whose sign changed by epoch {last}"),
    ]

ORDER_NAMES = {0: "basis circuits (eq. 11)", 1: "first-order perturbations (eq. 16)",
               2: "second-order perturbations (eq. 19)"}

WEAK_CORRELATION = 0.1
"""Our reading of "weak correlation among gates" (Li Fig. 3 caption): mean |r| of gate pairs at most 0.1."""


def sampled_circuits_markdown(sampled: SampledCircuits) -> Markdown:
    """Fig. 3b in numbers: per order, the symmetry statistics as mean ± spread over seeds."""
    rows = []
    for order in sampled.stats:
        cells = [plus_minus(*sampled.spread(order, key)) for key in STAT_KEYS]
        p_min = min(s["reflection_p"] for s in sampled.stats[order])
        rows.append([ORDER_NAMES[order], f"{np.mean(sampled.open_fraction[order]):.3f}", *cells,
                     f"{np.mean([s['reflection_ks_null'] for s in sampled.stats[order]]):.4f}", f"{p_min:.3f}"])
    return markdown_table(["sampled", "open share", "mean/std", "skewness", "KS(Ψ, −Ψ)", "KS null level",
                           "smallest p (symmetric)"], rows)


def sampled_circuit_claims(sampled: SampledCircuits) -> list[dict[str, Any]]:
    """Eq. 14 / Fig. 3b: no sign-flip test rejects the symmetry of sampled circuits at initialisation."""
    tests = sum(len(stats) for stats in sampled.stats.values())
    level = SIGNIFICANCE / tests
    claims = []
    for order, stats in sampled.stats.items():
        p_min = min(s["reflection_p"] for s in stats)
        claims.append(dict(
            name=f"{ORDER_NAMES[order]} are symmetric at initialisation (eq. 14, Fig. 3b)",
            paper="'the law of basis circuits are symmetric' (§II.4.2, Fig. 3b)", measured=p_min,
            agrees=p_min >= level, kind="paper",
            criterion=f"smallest p >= {level:.2g} (0.01 Bonferroni over {tests} tests)",
            detail=f"smallest sign-flip p-value over {len(stats)} seeds x {len(sampled.values[order][0]):,}+ open "
                   "samples"))
    return claims


def gate_correlation_markdown(rows: list[dict[str, Any]]) -> Markdown:
    """Gate correlations per snapshot and layer against the shuffled baseline."""
    return markdown_table(
        ["epoch", "layer", "units (constant)", "firing rate", "mean |r|", "mean |r| shuffled", "rms r"],
        [[r["epoch"], r["layer"], f"{r['n_units']} ({r['n_constant']})", f"{r['firing_rate_mean']:.3f}",
          f"{r['mean_abs']:.4f}", f"{r['mean_abs_shuffled']:.4f}", f"{r['rms']:.4f}"] for r in rows])


def gate_correlation_claims(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The theorem's assumption, at initialisation and at the end of training, with a stated criterion."""
    claims = []
    for epoch in sorted({r["epoch"] for r in rows}):
        at = [r for r in rows if r["epoch"] == epoch]
        worst = max(at, key=lambda r: r["mean_abs"])
        claims.append(dict(
            name=f"gates are weakly correlated at epoch {epoch}",
            paper="assumed: 'the weak correlation among gates' (Fig. 3 caption, §II.4.2)",
            measured=worst["mean_abs"], agrees=worst["mean_abs"] <= WEAK_CORRELATION, kind="paper",
            criterion=f"largest mean |r| <= {WEAK_CORRELATION} (our reading of 'weak')",
            detail=f"largest mean |r| over {len(at)} layers (layer {worst['layer']}; shuffled baseline "
                   f"{worst['mean_abs_shuffled']:.4f})"))
    return claims


def assembly_claims(grid, mu: float) -> list[dict[str, Any]]:
    """Eq. 20 over ensembles of random networks (an :class:`adaptsym.assemblies.AssemblyGrid`), with criteria:
    the symmetric law's normalised means sit at the noise floor of a zero mean; the broken law's decay with depth
    (inconclusive where they are at the floor already); the shifted law's do not decay."""
    from adaptsym.assemblies import fit_depth_decay

    law = {name: i for i, name in enumerate(grid.init_laws)}
    claims = []
    if "symmetric" in law:
        values, errors = grid.value[law["symmetric"]], grid.standard_error[law["symmetric"]]
        z = np.nanmax((values - grid.noise_floor) / errors)
        claims.append(dict(
            name="assemblies of a symmetric weight law have zero mean (eq. 20)",
            paper="E[sum delta^k Psi] <= O((c^2/2)^L + ...): the mean is small against the spread (§II.6.4)",
            measured=float(np.nanmax(values)), agrees=bool(z <= 4), kind="paper",
            criterion="every cell within 4 SE of the noise floor of a zero mean",
            detail=f"largest normalised mean over orders, depths, widths; noise floor of a zero mean "
                   f"{grid.noise_floor:.4f} (largest: {z:.1f} SE above it)"))
    depths = np.asarray(grid.depths)
    for name, decays in (("broken", True), ("shifted", False)):
        if name not in law:
            continue
        values, errors = grid.value[law[name], 0, :, -1], grid.standard_error[law[name], 0, :, -1]
        resolved = values[0] > grid.noise_floor + 3 * errors[0]
        rate = fit_depth_decay(depths, values).rate if np.all(values > 0) else float("nan")
        claims.append(dict(
            name=("with sqrt(n)^(1-mu) broken weights per layer the output's normalised mean decays with depth"
                  if decays else "with every weight's symmetry broken the decay goes away"),
            paper=("eq. 20: (c^2/2)^L + c^L / sqrt(n)^(L mu) (§II.6.4)" if decays
                   else "not in the paper (ours): the decay needs the symmetry"),
            measured=rate, agrees=(rate < 1 if decays else rate >= 0.9) if resolved else None,
            kind="paper" if decays else "ours", criterion="r < 1" if decays else "r >= 0.9",
            detail=f"fitted r of a r^L for T(x), width {grid.widths[-1]}, depths {grid.depths[0]}-{grid.depths[-1]}"
                   + ("" if resolved else "; inconclusive: already at the noise floor at the smallest depth")))
    if "broken" in law and len(grid.widths) > 1:
        values = grid.value[law["broken"], 0, -1]
        exponent = float(np.polyfit(np.log(grid.widths), np.log(values), 1)[0])
        predicted = -grid.depths[-1] * mu / 2
        claims.append(dict(
            name="the broken law's normalised mean of T(x) falls with width as eq. 20's width term",
            paper=f"c^L / sqrt(n)^(L mu): n^({predicted:g}) at L = {grid.depths[-1]} (eq. 20, §II.6.4)",
            measured=exponent, agrees=abs(exponent - predicted) <= 0.5, kind="paper",
            criterion=f"within 0.5 of {predicted:g}",
            detail=f"fitted exponent of n at L = {grid.depths[-1]}, widths {list(grid.widths)}"))
    return claims


def assembly_input(x: torch.Tensor) -> torch.Tensor:
    """The input for eq. 20's ensembles: ``x`` flattened with its largest coordinate moved first.

    The assemblies of :mod:`adaptsym.assemblies` differentiate by weights from input 0, and image corners are 0
    (then every gradient and Hessian entry through them is 0).  The weights are i.i.d., so the ensemble's law is
    invariant under permuting the input's coordinates: moving one first changes nothing else.
    """
    x = x.reshape(-1)
    order = torch.arange(len(x))
    first = int(x.abs().argmax())
    order[0], order[first] = first, 0
    return x[order]
