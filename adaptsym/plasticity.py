"""The plasticity phase measured on a training run: Hessian entries and the Hessian spectrum through training
(Li §II.6, Figs. 6-8).

With the hinge loss and a bias-free ReLU network the risk Hessian is H = -(1/m) Σ_{k: y_k T(x_k) < 1} y_k ∇²T(x_k)
(Li §II.7; :mod:`adaptsym.hessian`): examples whose margin exceeds 1 contribute nothing, so every Hessian quantity
here is computed on the margin violators alone, exactly, and H = 0 once there are none.  Its within-layer blocks
vanish, so tr H = 0: the spectrum has zero mean and, when H ≠ 0, eigenvalues of both signs.  Those are structure.
What is empirical, and measured here at every snapshot, is the rest: the entries' means against their fluctuations
(Figs. 6a, 7a-b), their correlations (Figs. 6b-c, 7c), and the shape of the spectrum (Fig. 8a): its normalised third
moment tr(H³)/tr(H²)^{3/2}, the balance of its squared eigenvalues below and above zero, its Ritz extremes.

A snapshot is cached (:func:`adaptsym.ensembles.cached`, under ``cache_root("hessian")``) by the run, the epoch
and the settings, so a rerun of a chapter, or an interrupted one, recomputes nothing it finished.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch
from scipy import stats
from torch import nn

from adaptsym import hessian
from adaptsym.device import resolve_device
from adaptsym.ensembles import cached
from adaptsym.models import count_parameters, hinge_loss, margins, relu_mlp
from adaptsym.progress import progress_bar
from adaptsym.storage import cache_root
from adaptsym.tables import markdown_table, plus_minus

SMALL_MEAN = 0.15
"""Li Fig. 7b's threshold on |mean| / std of a Hessian entry's bootstrap law."""

SHARE_GROUPS = 10
"""Disjoint groups of bootstrap replicates whose spread gives the error of the Fig. 7b share."""

OFF_ZERO = 1e-3
"""Quadrature nodes within this fraction of the largest |Ritz value| count as the spike of H's null space."""

HVP_BATCH = 1000
"""Examples per batch of the Hessian-vector products."""

CACHE_VERSION = 1
"""Part of every cache key: raise it when what a snapshot stores changes."""


@dataclass(frozen=True)
class HessianSnapshot:
    """Li Figs. 6-8 at one set of weights.

    ``replicates`` (B, P) (float64, CPU): bootstrap replicates of P cross-layer Hessian entries, each the mean per-example entry
    over ``resample_size`` examples drawn with replacement; ``per_example_z`` (P,): |mean| / std of the per-example
    entries over the m examples (the normalised mean at resample size 1); ``coupling``: the result of
    :func:`adaptsym.hessian.coupling_set_size` (None with at most 3 violators: too few to test); ``nodes``, ``weights`` (probes, steps): the SLQ quadrature of H.
    All four are None where H = 0 (no margin violator); ``zero_hvp_norm`` is then ||Hv|| for a Rademacher v,
    measured, and None otherwise.
    """

    epoch: int
    risk: float
    violators: int
    examples: int
    dim: int
    resample_size: int
    replicates: torch.Tensor | None
    per_example_z: torch.Tensor | None
    coupling: dict[str, Any] | None
    nodes: torch.Tensor | None
    weights: torch.Tensor | None
    zero_hvp_norm: float | None

    @property
    def n_entries(self) -> float:
        """The number of distinct entries of the symmetric N x N Hessian, N(N + 1)/2: Li's N in Fig. 7c."""
        return self.dim * (self.dim + 1) / 2

    @property
    def zero(self) -> bool:
        """Whether H = 0 exactly: no example violates its margin."""
        return self.violators == 0

    def statistics(self) -> dict[str, torch.Tensor]:
        """:func:`adaptsym.hessian.entry_statistics` of the replicates."""
        return hessian.entry_statistics(self.replicates)

    def normalised_means(self) -> torch.Tensor:
        """|mean| / std of every entry's bootstrap law (Li Fig. 7a); NaN for entries that are 0 on every example."""
        return _normalised_means(self.replicates)

    def small_share(self) -> tuple[float, float]:
        """Share of defined normalised means below :data:`SMALL_MEAN` (Li Fig. 7b) and its error: the spread of the
        share over :data:`SHARE_GROUPS` disjoint groups of replicates, divided by sqrt(groups)."""
        groups = [_share_below(part) for part in self.replicates.chunk(SHARE_GROUPS)]
        return _share_below(self.replicates), float(np.std(groups, ddof=1) / math.sqrt(len(groups)))

    def largest_resample_size(self, share: float = 0.95) -> float:
        """The largest resample size k at which ``share`` of the entries would have |mean|/std < SMALL_MEAN.

        The std of a mean of k draws with replacement is the per-example std over sqrt(k), so an entry's normalised
        mean at resample size k is sqrt(k) ``per_example_z``; the share is reached for k <= (SMALL_MEAN / q)², q the
        ``share`` quantile of ``per_example_z``.
        """
        z = self.per_example_z[torch.isfinite(self.per_example_z)]
        return float((SMALL_MEAN / torch.quantile(z, share)) ** 2)

    def coupling_at(self, n_effective: int) -> dict[str, Any]:
        """:func:`adaptsym.hessian.coupling_set_size` with the tests' sample size set to ``n_effective``: compares
        snapshots at equal power (the same threshold on |r|), which the default, the number of violators, does not."""
        return hessian.coupling_set_size(self.replicates, n_effective=n_effective)

    def spectrum(self) -> dict[str, float]:
        """:func:`spectral_summary` of the quadrature."""
        return spectral_summary(self.nodes, self.weights, self.dim)


def _normalised_means(replicates: torch.Tensor) -> torch.Tensor:
    """|mean| / std of each column of the replicates (B, P), in float64: the mean and std of
    :func:`adaptsym.hessian.entry_statistics`, without its higher moments and correlation matrix."""
    r = replicates.to(torch.float64)
    return r.mean(0).abs() / r.std(0)


def _share_below(replicates: torch.Tensor) -> float:
    normalised = _normalised_means(replicates)
    defined = torch.isfinite(normalised)
    return float((normalised[defined] < SMALL_MEAN).double().mean())


def spectral_summary(nodes: torch.Tensor, weights: torch.Tensor, dim: int) -> dict[str, float]:
    """What Li Fig. 8a shows of a spectrum, from an SLQ quadrature (probes, steps) of an operator of size ``dim``.

    Moments: per probe, Σ w θ^j = vᵀH^j v / N, an unbiased estimate of tr(H^j)/N; errors are jackknife errors over
    the probes.  Returned:

    - ``width``: sqrt(tr H² / N), the spectrum's root-mean-square eigenvalue;
    - ``trace_ratio`` (± ``trace_ratio_se``): (tr H / N) / width, 0 by structure for Li's networks;
    - ``skewness`` (± ``skewness_se``): the normalised third moment tr(H³) / tr(H²)^{3/2}, in [-1, 1]: 0 for a
      spectrum symmetric about 0, ±1 when one eigenvalue dominates;
    - ``energy_ratio``: Σ_{λ<0} λ² / Σ_{λ>0} λ², the squared eigenvalues' balance (1 for a symmetric spectrum;
      insensitive to the spike of eigenvalues at 0 that SLQ cannot resolve);
    - ``ritz_min``, ``ritz_max``: the extreme Ritz values; they lie inside [λ_min, λ_max], so ``ritz_min`` < 0 <
      ``ritz_max`` proves eigenvalues of both signs (a saddle);
    - ``negative_mass``, ``positive_mass``: quadrature mass beyond ±:data:`OFF_ZERO` times the largest |Ritz
      value|; the share of eigenvalues resolved away from 0 on each side (a coarse count: it depends on the
      quadrature's resolution).
    """
    nodes, weights = nodes.double().cpu(), weights.double().cpu()
    moment = [(weights * nodes ** j).sum(1) for j in range(4)]  # per probe

    def jackknife(statistic) -> tuple[float, float]:
        value = float(statistic(*(m.mean() for m in moment)))
        probes = len(nodes)
        if probes < 2:
            return value, math.nan
        leave_one_out = torch.tensor([float(statistic(*(torch.cat([m[:i], m[i + 1:]]).mean() for m in moment)))
                                      for i in range(probes)])
        return value, float(math.sqrt((probes - 1) * ((leave_one_out - leave_one_out.mean()) ** 2).mean()))

    width = math.sqrt(float(moment[2].mean()))
    trace_ratio, trace_se = jackknife(lambda m0, m1, m2, m3: m1 / m2.sqrt())
    skewness, skewness_se = jackknife(lambda m0, m1, m2, m3: m3 / (m2 ** 1.5 * math.sqrt(dim)))
    live = weights > 0
    scale = float(nodes[live].abs().max())
    cut = OFF_ZERO * scale
    return {
        "width": width, "trace_ratio": trace_ratio, "trace_ratio_se": trace_se,
        "skewness": skewness, "skewness_se": skewness_se,
        "energy_ratio": float((weights * nodes ** 2 * (nodes < 0)).sum() / (weights * nodes ** 2 * (nodes > 0)).sum()),
        "ritz_min": float(nodes[live].min()), "ritz_max": float(nodes[live].max()),
        "negative_mass": float((weights * (nodes < -cut)).sum(1).mean()),
        "positive_mass": float((weights * (nodes > cut)).sum(1).mean()),
    }


def margin_violators(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Boolean mask of the examples with y T(x) < 1: the only ones the Hessian of the hinge risk sees."""
    with torch.no_grad():
        return margins(model, x, y) < 1


def hessian_snapshot(model: nn.Module, x: torch.Tensor, y: torch.Tensor, epoch: int, pairs: torch.Tensor, *,
                     n_boot: int, resample_size: int, slq_steps: int, slq_probes: int,
                     seed: int = 0) -> HessianSnapshot:
    """Li Figs. 6-8 at the weights of ``model`` on the training set ``(x, y)`` (float64 model and data).

    Entries (Figs. 6-7): the per-example entries of ``pairs`` over all m examples (0 on non-violators), computed
    once, then ``n_boot`` bootstrap replicates of ``resample_size`` examples each; coupling sets (Fig. 7c) from the
    replicates with the effective sample size capped at the number of violators, the examples that carry
    information.  Spectrum (Fig. 8a): SLQ with ``slq_steps`` steps and ``slq_probes`` Rademacher probes on exact
    HVPs of H over the violators (H restricted to them is H itself), the products in float32 and Lanczos in float64.
    """
    with torch.no_grad():
        margin = margins(model, x, y)
    violating, risk = margin < 1, float(torch.clamp(1 - margin, min=0).mean())
    count, m = int(violating.sum()), len(x)
    dim = count_parameters(model)
    if count == 0:
        probe = 2.0 * torch.randint(2, (dim,), generator=torch.Generator().manual_seed(seed)) - 1
        norm = float(hessian.risk_hvp(model, x, y, batch_size=HVP_BATCH)(probe.to(x)).norm())
        return HessianSnapshot(epoch, risk, 0, m, dim, resample_size, None, None, None, None, None, norm)
    xv, yv = x[violating], y[violating]
    entries = x.new_zeros(m, len(pairs))
    entries[violating] = hessian.hessian_entries(model, xv, yv, pairs, progress=False)
    per_example_z = entries.mean(0).abs() / entries.std(0)
    replicates = hessian.bootstrap_entries(entries, n_boot, seed=seed, resample_size=resample_size)
    coupling = hessian.coupling_set_size(replicates, n_effective=min(n_boot, count)) if count > 3 else None
    nodes, weights = spectrum_quadrature(model, x, y, slq_steps, slq_probes, seed=seed)
    return HessianSnapshot(epoch, risk, count, m, dim, resample_size, replicates.cpu(), per_example_z.cpu(), coupling,
                           nodes, weights, None)


def spectrum_quadrature(model: nn.Module, x: torch.Tensor, y: torch.Tensor, steps: int, probes: int,
                        seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """SLQ quadrature ``(nodes, weights)`` (probes, steps) of the risk Hessian of ``model`` on ``(x, y)`` (Li Fig. 8a):
    exact HVPs over the margin violators only, scaled by their share of the examples (the other examples add
    nothing to H), in float32; Lanczos in float64.  H = 0 without violators: a unit mass at 0."""
    violating = margin_violators(model, x, y)
    count, dim = int(violating.sum()), count_parameters(model)
    if count == 0:
        return hessian.slq(torch.zeros_like, dim, steps, probes, seed=seed, device=x.device, progress=False)
    hvp = hessian.risk_hvp(_copy(model, torch.float32), x[violating].float(), y[violating].float(),
                           batch_size=HVP_BATCH)
    nodes, weights = hessian.slq(lambda v: count / len(x) * hvp(v), dim, steps, probes, seed=seed, device=x.device,
                                 progress=False)
    return nodes.cpu(), weights.cpu()


def _copy(model: nn.Module, dtype: torch.dtype) -> nn.Module:
    """A copy of ``model`` in ``dtype`` (``nn.Module.to`` converts in place)."""
    return copy.deepcopy(model).to(dtype)


def hessian_snapshots(ref, *, n_pairs: int, n_boot: int, resample_size: int, slq_steps: int, slq_probes: int,
                      seed: int = 0, epochs: Sequence[int] | None = None, device: str | torch.device = "auto",
                      progress: bool = True) -> list[HessianSnapshot]:
    """:func:`hessian_snapshot` at every snapshot of a reference run (:func:`adaptsym.reference.reference_run`), or
    at ``epochs``, in float64 on ``device``, with the same ``n_pairs`` random cross-layer entries throughout; each
    snapshot cached (on the CPU)."""
    device = resolve_device(device)
    pairs = hessian.random_cross_layer_pairs(ref.model(0), n_pairs, seed=seed)
    x, y = ref.x_train.to(device, torch.float64), ref.y_train.to(device, torch.float64)
    settings = dict(n_boot=n_boot, resample_size=resample_size, slq_steps=slq_steps, slq_probes=slq_probes,
                    seed=seed)
    found = []
    for epoch in progress_bar(list(epochs or ref.epochs), desc="Hessian snapshots", disable=not progress):
        def compute(epoch=epoch):
            snapshot = hessian_snapshot(ref.model(epoch, device=device).double(), x, y, epoch, pairs, **settings)
            return vars(snapshot)

        key = dict(settings, n_pairs=n_pairs, run=ref.run.path.name, epoch=epoch, version=CACHE_VERSION)
        found.append(HessianSnapshot(**cached("snapshot", key, compute, root=cache_root("hessian"))))
    return found


def live(snapshots: Sequence[HessianSnapshot]) -> list[HessianSnapshot]:
    """The snapshots where H ≠ 0."""
    return [s for s in snapshots if not s.zero]


def snapshot_markdown(snapshots: Sequence[HessianSnapshot]):
    """Per snapshot: risk, violators, Fig. 7b's share, Fig. 7c's significant shares, and Fig. 8a's numbers; H = 0
    rows say so, with the measured ||Hv||."""
    rows = []
    for s in snapshots:
        if s.zero:
            rows.append([s.epoch, f"{s.risk:.2g}", 0, f"H = 0: measured ‖Hv‖ = {s.zero_hvp_norm:g}"] + ["—"] * 8)
            continue
        spectrum, share = s.spectrum(), s.small_share()
        coupled = "—" if s.coupling is None else f"{s.coupling['correlation_fraction']:.2e}"
        skewed = "—" if s.coupling is None else f"{s.coupling['skewness_fraction']:.2f}"
        rows.append([s.epoch, f"{s.risk:.2g}", s.violators, plus_minus(*share), f"{s.largest_resample_size():.3g}",
                     coupled, skewed, f"{spectrum['width']:.2e}",
                     plus_minus(spectrum["skewness"], spectrum["skewness_se"]), f"{spectrum['energy_ratio']:.2f}",
                     f"{spectrum['ritz_min']:.3g} / {spectrum['ritz_max']:.3g}",
                     f"{spectrum['negative_mass']:.2f} / {spectrum['positive_mass']:.2f}"])
    return markdown_table(
        ["epoch", "risk", "violators", f"share of \\|mean\\|/std < {SMALL_MEAN}", "largest k for 95%",
         "correlated pairs", "skewed entries", "spectral width", r"$\mathrm{tr}\,H^3/(\mathrm{tr}\,H^2)^{3/2}$",
         r"$\sum\lambda^2$: neg./pos.",
         "Ritz min / max", "mass < 0 / > 0"], rows)


def coupling_exponent(fraction: float, n_entries: float) -> float:
    """log_N of a coupling set of ``fraction`` of the N = ``n_entries`` Hessian entries (Li Fig. 7c plots the
    coupling set size as an exponent of N); e.g. Li's 3.39e-4 of 8.68e12 is N^0.73, and sqrt(N) is N^0.5."""
    return float(np.log(max(fraction * n_entries, 1.0)) / np.log(n_entries))


def entry_claims(snapshots: Sequence[HessianSnapshot]) -> list[dict[str, Any]]:
    """Li Figs. 6-7 as claims with stated criteria (``Ledger.record`` keyword arguments)."""
    shown = live(snapshots)
    shares = [s.small_share() for s in shown]
    low = int(np.argmin([share for share, _ in shares]))
    first, last = shares[0], shares[-1]
    change = last[0] - first[0]
    tested = [s for s in shown if s.coupling is not None]
    n_entries = shown[0].n_entries
    fraction = tested[-1].coupling["correlation_fraction"]
    exponent = coupling_exponent(fraction, n_entries)
    power = min(tested[0].violators, tested[-1].violators, len(tested[-1].replicates))
    before, after = (s.coupling_at(power)["correlation_fraction"] for s in (tested[0], tested[-1]))
    k = shown[0].resample_size
    sizes = [s.largest_resample_size() for s in shown]
    return [
        dict(name="Hessian entries fluctuate around zero: at least 95% of |mean|/std below 0.15 (Fig. 7b)",
             paper="at least 95% throughout training (§II.6.4, Fig. 7b)", measured=shares[low][0],
             agrees=shares[low][0] >= 0.95, kind="paper", criterion="smallest share >= 0.95",
             detail=f"smallest share over the {len(shown)} snapshots with H ≠ 0 (epoch {shown[low].epoch}), bootstrap "
                    f"means of {k} examples (the training minibatch); 95% would need resample sizes of at most "
                    f"{min(sizes):.2g}-{max(sizes):.2g} examples"),
        dict(name="the share of near-zero entry means rises through training (Fig. 7b)",
             paper="'gradually increases up to around 98%' (§II.6.4)", measured=change,
             agrees=change > 2 * math.hypot(first[1], last[1]), kind="paper",
             criterion="a rise beyond twice its standard error",
             detail=f"share at epoch {shown[-1].epoch} minus share at epoch {shown[0].epoch} "
                    f"({first[0]:.3f} to {last[0]:.3f})"),
        dict(name="Hessian entries are sparsely correlated (Fig. 7c)",
             paper="3.39e-4 of all possible coefficients at the end of training (§II.6.4, Fig. 7c)",
             measured=fraction, agrees=fraction <= 0.01, kind="paper", criterion="share <= 0.01",
             detail=f"share of significantly correlated pairs among {tested[-1].coupling['n_entries']} random "
                    f"cross-layer entries at epoch {tested[-1].epoch} (Fisher z with n = {tested[-1].coupling['n_effective']}"
                    f" violators, Benjamini-Hochberg at FDR 0.05)"),
        dict(name="coupling sets are no larger than the sqrt(N) the theorem assumes (Fig. 7c)",
             paper="coupling density ~ sqrt(N) assumed (supp. B G 7); Li's own 3.39e-4 of N = 8.68e12 is N^0.73",
             measured=exponent, agrees=exponent <= 0.5, kind="paper", criterion="exponent <= 0.5",
             detail=f"log_N of the coupling set size (share x N) at epoch {tested[-1].epoch}, N = {n_entries:.3g} "
                    "distinct Hessian entries"),
        dict(name="correlations among entries increase after training (Figs. 6b-c)",
             paper="'the correlations increases after training' (§II.6.4)", measured=after - before,
             agrees=after > before, kind="paper", criterion="difference > 0",
             detail=f"share of significantly correlated pairs at epoch {tested[-1].epoch} minus epoch "
                    f"{tested[0].epoch} ({before:.2e} to {after:.2e}), both tested at n = {power} so that the "
                    "threshold on |r| is the same"),
    ]


def spectrum_claims(snapshots: Sequence[HessianSnapshot]) -> list[dict[str, Any]]:
    """Li Fig. 8a as claims with stated criteria, and the exact H = 0 of zero-risk snapshots."""
    shown = live(snapshots)
    spectra = [s.spectrum() for s in shown]
    worst = int(np.argmax([abs(sp["skewness"]) for sp in spectra]))
    ratios = [sp["energy_ratio"] for sp in spectra]
    saddles = sum(sp["ritz_min"] < 0 < sp["ritz_max"] for sp in spectra)
    rho, p_value = stats.spearmanr([s.risk for s in shown], [sp["width"] for sp in spectra])
    zero = [s for s in snapshots if s.zero]
    return [
        dict(name="the Hessian spectrum is symmetric about zero through training (Fig. 8a)",
             paper="'self-similar as the gradients do': symmetric throughout training (Fig. 8a)",
             measured=spectra[worst]["skewness"],
             agrees=abs(spectra[worst]["skewness"]) <= 0.1 and all(0.5 <= r <= 2 for r in ratios), kind="paper",
             criterion="|skewness| <= 0.1 (its range is [-1, 1]) and every energy ratio in [0.5, 2]",
             detail=f"largest |tr H³/(tr H²)^(3/2)| over {len(shown)} snapshots with H ≠ 0 (epoch "
                    f"{shown[worst].epoch}; ±{spectra[worst]['skewness_se']:.1g}), and Σλ² below/above 0 in "
                    f"[{min(ratios):.2f}, {max(ratios):.2f}]"),
        dict(name="every stationary point is a saddle: eigenvalues of both signs (Fig. 8a)",
             paper="'all stationary points are saddle points' (§II.6.5); forced by tr H = 0 once H ≠ 0",
             measured=saddles, agrees=saddles == len(shown), kind="identity",
             criterion="Ritz values of both signs at every snapshot with H ≠ 0",
             detail=f"snapshots of {len(shown)} with H ≠ 0 whose Ritz values (inside the spectrum) include both "
                    "signs; forced by tr H = 0 once H ≠ 0, so this is structure, not a finding"),
        dict(name="a lower risk concentrates the eigenvalues towards zero (Fig. 8a)",
             paper="'a lower risk concentrates eigenvalues more towards zero' (§II.6.5)", measured=float(rho),
             agrees=bool(rho > 0 and p_value < 0.05), kind="paper", criterion="positive with p < 0.05",
             detail=f"Spearman correlation of the risk and the spectral width sqrt(tr H²/N) over {len(shown)} "
                    f"snapshots (p = {p_value:.2g})"),
        dict(name="H = 0 once every margin exceeds 1", paper="exact for the hinge loss (§II.7)",
             measured=max((s.zero_hvp_norm for s in zero), default=None),
             agrees=all(s.zero_hvp_norm == 0 for s in zero) if zero else None, kind="identity",
             criterion="||Hv|| exactly 0",
             detail=f"largest measured ||Hv|| over the {len(zero)} snapshots without margin violators"
                    + ("" if zero else " (none at this scale: inconclusive)")),
    ]


def structure_on_small_network(x: torch.Tensor, y: torch.Tensor, hidden: Sequence[int] = (8, 8, 8), pool: int = 4,
                               steps: int = 40, lr: float = 0.1, seed: int = 0) -> dict[str, float]:
    """The structural facts of §II.7 on the dense Hessian of a small network (:func:`adaptsym.hessian.
    hessian_structure_check`): a bias-free ReLU MLP with ``hidden`` widths on images ``x`` (m, 1, H, W) or
    (m, H·W) average-pooled by ``pool``, trained by ``steps`` full-batch gradient steps of size ``lr`` on the hinge
    risk, in float64.  Also returns the network's weight count (``weights``)."""
    images = x.double().reshape(len(x), 1, *([int(math.isqrt(x[0].numel()))] * 2))
    inputs = nn.functional.avg_pool2d(images, pool).flatten(1)
    model = relu_mlp([inputs.shape[1], *hidden, 1], seed=seed, dtype=torch.float64, device="cpu")
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    targets = y.double()
    for _ in range(steps):
        optimizer.zero_grad()
        hinge_loss(model(inputs), targets).backward()
        optimizer.step()
    return dict(hessian.hessian_structure_check(model, inputs, targets), weights=float(hessian.flat_weights(model).numel()))


def structure_claim(check: dict[str, float]) -> dict[str, Any]:
    """The structural facts of §II.7 measured by :func:`structure_on_small_network`, as a claim."""
    worst = max(check["max_diagonal"], check["max_within_layer"], check["max_violator_sum_error"])
    return dict(name="diag H = 0, tr H = 0, within-layer blocks 0, H a sum over margin violators (structure)",
                paper="exact identity for a bias-free ReLU network with the hinge loss (§II.7)", measured=worst,
                agrees=worst <= 1e-12 * check["max_entry"], kind="identity",
                criterion="<= 1e-12 of the largest entry",
                detail=f"largest violation on the dense Hessian of a {check['weights']:.0f}-weight network with "
                       f"{check['violators']:.0f} margin violators, |tr H| = {check['trace']:.1g}")


def shown_entries(snapshots: Sequence[HessianSnapshot], count: int = 3) -> list[int]:
    """The first ``count`` entries (columns of the replicates) whose bootstrap law has a non-zero spread at every
    snapshot with H ≠ 0: the entries of Li Fig. 6a (the pairs are drawn at random, so the first are random)."""
    spread = torch.stack([s.replicates.std(0) > 0 for s in live(snapshots)]).all(0)
    return torch.nonzero(spread).flatten()[:count].tolist()
