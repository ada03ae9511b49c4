"""The book's figure style: matplotlib, white background, readable at book width."""

from __future__ import annotations

import matplotlib.colors as mcolors
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Patch

TEXT_WIDTH = 6.5
"""Width of a figure in inches that fits the book's text column (660 CSS px, at 96 px per inch, less the margin
the saved figure adds): such a figure shows at its physical size, so its 9 pt labels render at 9 pt (the book
build sizes each figure from its resolution)."""
STYLE = {
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
    "savefig.pad_inches": 0.05,
    "figure.dpi": 96,  # one figure inch is one CSS inch; the PNGs are drawn at twice this (retina, below)
    "font.size": 10,
    "axes.titlesize": 10,
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "legend.title_fontsize": 9,
    "figure.titlesize": 11,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "lines.linewidth": 1.6,
}


def use_book_style() -> None:
    """Apply the book's matplotlib settings (call once at the top of a chapter): white background, fonts of 9 pt
    and more, and in Jupyter figures drawn at twice their resolution for high-resolution screens."""
    plt.rcParams.update(STYLE)
    from IPython import get_ipython

    if get_ipython() is not None:
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        set_matplotlib_formats("retina")


def panels(n: int, width: float = 3.4, height: float = 2.8, **kwargs):
    """``n`` axes of about ``width`` x ``height`` inches each, in rows no wider than the book's text column
    (:data:`TEXT_WIDTH`), so that they show at their physical size in the book: as many panels per row as fit at
    three quarters of ``width`` or more, narrowed to fit; returns (figure, list of the ``n`` axes in reading
    order)."""
    columns = min(n, max(1, int(TEXT_WIDTH // (0.75 * width))))
    width, rows = min(width, TEXT_WIDTH / columns), -(-n // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(width * columns, height * rows), squeeze=False,
                             constrained_layout=True, **kwargs)
    for ax in axes.flat[n:]:
        ax.remove()
    return fig, list(axes.flat[:n])


def ridgeline_panels(grids, densities_per_panel, labels, titles, xlabel: str = "", width: float = 2.4):
    """One panel of stacked ridgelines (:func:`ridgelines`) per entry, e.g. per layer (Li Figs. 3a, 4a)."""
    fig, axes = panels(len(titles), width=width, height=3.4)
    for ax, grid, densities, title in zip(axes, grids, densities_per_panel, titles):
        ridgelines(ax, grid, densities, labels)
        ax.set(title=title, xlabel=xlabel)
    return fig


def gradient_ridgelines(snapshots):
    """Li Fig. 4a: the gradient entries over their std, one ridgeline per snapshot with a non-zero gradient."""
    from adaptsym.symmetry import smoothed_density

    live = [s for s in snapshots if s.scaled is not None]
    grid = np.linspace(-5, 5, 401)
    densities = [smoothed_density(s.scaled, grid, 2 * (grid[1] - grid[0])) for s in live]
    fig, (ax,) = panels(1, width=4.5, height=3.6)
    ridgelines(ax, grid, densities, [f"epoch {s.epoch}" for s in live])
    zero = [s.epoch for s in snapshots if s.scaled is None]
    ax.set(xlabel="gradient entry / its std", title="gradient entries" + (f" (exactly 0 at epochs {zero})" if zero else ""))
    return fig


def order_parameter_figure(summary):
    """Li Fig. 4b: eta ||grad R||^2 ('OP') and the training risk; the first half on log axes, the rest linear."""
    fig, (ax_log, ax_lin) = panels(2, width=3.6)
    half = summary.epochs <= summary.epochs[-1] // 2
    for ax, part, scale in ((ax_log, half, "log"), (ax_lin, ~half, "linear")):
        ax.plot(summary.epochs[part], summary.risk[part], label="risk (Loss)")
        ax.plot(summary.epochs[part], summary.op[part], label="η‖∇R‖² (OP)")
        ax.set(yscale=scale, xlabel="epoch")
    ax_log.set(title="first half (log axis)")
    ax_lin.set(title="second half (linear axis)")
    ax_log.legend()
    return fig

def signed_log_histograms(values_by_order, titles):
    """Li Fig. 3b: histograms of sampled values on a signed log axis, sign(v) log10|v|, one panel per order;
    one step line per seed."""
    fig, axes = panels(len(titles), width=3.0)
    for ax, values, title in zip(axes, values_by_order.values(), titles):
        for v in values:
            ax.hist(np.sign(v) * np.log10(np.abs(v)), bins=80, histtype="step", density=True)
        ax.axvline(0, color="k", lw=0.8)
        ax.set(title=title, xlabel="sign(v)·log10|v|")
    return fig


def gate_correlation_histograms(rows):
    """Histograms of pairwise gate-state correlations per hidden layer, first vs last epoch, with the shuffled
    baseline of the last epoch."""
    layers = sorted({r["layer"] for r in rows})
    epochs = sorted({r["epoch"] for r in rows})
    fig, axes = panels(len(layers), width=2.4)
    bins = np.linspace(-1, 1, 81)
    for ax, layer in zip(axes, layers):
        for epoch in epochs:
            r = next(r for r in rows if r["layer"] == layer and r["epoch"] == epoch)
            ax.hist(r["r"], bins=bins, histtype="step", density=True, label=f"epoch {epoch}")
        ax.hist(r["r_shuffled"], bins=bins, histtype="step", density=True, color="grey", label="shuffled")
        ax.set(title=f"layer {layer}", xlabel="gate correlation r", yscale="log")
    axes[0].legend()
    return fig

def equilibration_figure(checks):
    """The SK equilibration check: energy measured directly and from the overlap, against the window's end."""
    temperatures = sorted({r["temperature"] for r in checks})
    shown = [temperatures[0], temperatures[len(temperatures) // 2], temperatures[-1]]
    fig, axes = panels(len(shown), width=3.0)
    for ax, temperature in zip(axes, shown):
        rows = [r for r in checks if r["temperature"] == temperature]
        sweeps = [r["sweeps"] for r in rows]
        ax.errorbar(sweeps, [r["energy"] for r in rows], [r["se"] for r in rows], fmt="o-", label="[⟨H⟩]/n")
        ax.plot(sweeps, [r["energy_from_q"] for r in rows], "s--", label="−β(1 − [⟨q²⟩])/2")
        ax.set(xscale="log", xlabel="sweeps (end of window)", title=f"T = {temperature:g}")
    axes[0].legend()
    return fig


def spin_glass_figure(found):
    """The SK order parameter q_EA(T) with its paramagnetic floor, and the overlap distribution P(q) across T_c."""
    from adaptsym.spinglass import paramagnetic_floor

    fig, (ax_q, ax_p) = panels(2, width=3.6)
    n = len(found.q_support) - 1
    ax_q.errorbar(found.temperatures, found.q_ea, found.q2_se / (2 * found.q_ea), fmt="o-", label="$q_{EA}$")
    hot = found.temperatures[found.temperatures > 1.05]
    ax_q.plot(hot, [paramagnetic_floor(n, t) for t in hot], "k:", label="floor $1/\\sqrt{n(1-\\beta^2)}$")
    ax_q.axvline(1, color="grey", lw=0.8)
    ax_q.set(xlabel="T", ylabel="$q_{EA}$", title="order parameter")
    ax_q.legend()
    for t in (0, len(found.temperatures) // 2, len(found.temperatures) - 1):
        ax_p.plot(found.q_support, found.p_q[t] * n / 2, label=f"T = {found.temperatures[t]:g}")
    ax_p.set(xlabel="overlap q", ylabel="P(q)", title="overlap distribution")
    ax_p.legend()
    return fig

def assembly_figure(grid, mu: float):
    """Li eq. 20 measured: per order, the normalised mean |E[A]|/sqrt(E[A^2]) against depth for each weight law
    (colour) and width (line style), the noise floor of a zero mean, and the bound's shape (grey, through the
    broken law's first point at the widest width)."""
    from adaptsym.assemblies import bound_shapes

    names = {0: "output T(x)", 1: "gradient entry", 2: "Hessian entry"}
    colours = {"symmetric": "tab:blue", "broken": "tab:orange", "shifted": "tab:red"}
    styles = ["-", "--", ":", "-."]
    fig, axes = panels(len(grid.orders), width=3.2, height=3.0)
    depths = np.asarray(grid.depths)
    for ax, (k, order) in zip(axes, enumerate(grid.orders)):
        for a, law in enumerate(grid.init_laws):
            for w, width in enumerate(grid.widths):
                ax.plot(depths, grid.value[a, k, :, w], styles[w % 4], marker="o", ms=3, color=colours.get(law),
                        label=f"{law}, n={width}" if k == 0 else None)
        if "broken" in grid.init_laws:
            b = grid.init_laws.index("broken")
            first = np.flatnonzero(np.isfinite(grid.value[b, k, :, -1]))
            if first.size:
                shape = bound_shapes(depths, grid.widths[-1], mu).total
                ax.plot(depths, shape / shape[first[0]] * grid.value[b, k, first[0], -1], color="grey", lw=2,
                        alpha=0.5, label="eq. 20 bound shape" if k == 0 else None)
        ax.axhline(grid.noise_floor, color="black", lw=0.8, label="noise floor" if k == 0 else None)
        ax.set(yscale="log", xlabel="depth L", title=names[order])
    axes[0].set_ylabel("|E[A]| / sqrt(E[A²])")
    fig.legend(loc="outside right upper")
    return fig

def circuit_diagram(ax, weights: list, gates: list, path: tuple[int, ...], circuit_value: float,
                    output_value: float) -> list:
    """Li Fig. 2 for a small bias-free ReLU MLP: neurons, weights, one highlighted basis circuit, the assembly.

    ``weights[l]`` is layer l+1's matrix in PyTorch (out, in) order, ``gates[l]`` the 0/1 ReLU gates of hidden
    layer l+1, ``path = (i_0, ..., i_{L-1})`` the highlighted circuit (it ends at output 0).  Edge width
    follows |w| and colour its sign; closed gates are drawn hollow, the inputs red and the output blue (as in Li's
    figure).  Returns the node heights per layer, for overlays (:func:`basis_circuit_figure`).
    """
    widths = [weights[0].shape[1]] + [w.shape[0] for w in weights]
    ys = [np.linspace(-(n - 1) / 2, (n - 1) / 2, n) for n in widths]
    scale = max(float(abs(w).max()) for w in weights)
    for layer, w in enumerate(weights):
        for j in range(w.shape[0]):
            for i in range(w.shape[1]):
                ax.plot([layer, layer + 1], [ys[layer][i], ys[layer + 1][j]], lw=2.5 * abs(float(w[j, i])) / scale,
                        color="tab:red" if w[j, i] > 0 else "tab:blue", alpha=0.35, zorder=1)
    full_path = tuple(path) + (0,)
    for layer in range(len(weights)):
        ax.plot([layer, layer + 1], [ys[layer][full_path[layer]], ys[layer + 1][full_path[layer + 1]]],
                color="tab:green", lw=4, zorder=2)
    for layer, n in enumerate(widths):
        is_hidden = 0 < layer < len(widths) - 1
        colour = "black" if is_hidden else ("tab:red" if layer == 0 else "tab:blue")
        open_gate = [bool(g) for g in gates[layer - 1]] if is_hidden else [True] * n
        ax.scatter([layer] * n, ys[layer], s=140, zorder=3, edgecolors="black",
                   c=[colour if g else "white" for g in open_gate])
    ax.annotate(f"assembly:\nT(x) = Σ Ψ = {output_value:.3f}", (len(weights), 0), xytext=(0, -16),
                textcoords="offset points", ha="center", va="top", fontsize=9, color="tab:blue")
    ax.set_title(f"highlighted basis circuit Ψ = {circuit_value:.3f}   (filled: open gate h = 1)")
    ax.set_xticks(range(len(widths)), ["input x"] + [f"layer {l}" for l in range(1, len(widths) - 1)] + ["output"])
    ax.set_yticks([])
    ax.grid(False)
    return ys


def wavy_edge(ax, start, end, waves: int = 4, amplitude: float = 0.1, **style):
    """A curvy line from ``start`` to ``end`` (data coordinates): Li Fig. 2's drawing of a perturbed weight."""
    t = np.linspace(0, 1, 200)
    (x0, y0), (x1, y1) = start, end
    length = np.hypot(x1 - x0, y1 - y0)
    wobble = amplitude * np.sin(2 * np.pi * waves * t)
    return ax.plot(x0 + t * (x1 - x0) - wobble * (y1 - y0) / length,
                   y0 + t * (y1 - y0) + wobble * (x1 - x0) / length, **style)[0]


def reconstruction_scatter(ax, data_moments, model_moments, model_label: str, title: str) -> None:
    """Zou & Huang Fig. 3b: model against data for the connected correlations C_ij - m_i m_j (i < j)
    and the magnetisations m_i, with the identity line. Each argument holds ``(m, C)``."""
    (m, C), (m_model, C_model) = data_moments, model_moments
    upper = np.triu_indices(len(m), 1)
    ax.scatter((C - np.outer(m, m))[upper], (C_model - np.outer(m_model, m_model))[upper], s=2, alpha=0.4,
               label="C_ij − m_i m_j")
    ax.scatter(m, m_model, s=4, label="m_i")
    lim = [min(ax.get_xlim()[0], ax.get_ylim()[0]), max(ax.get_xlim()[1], ax.get_ylim()[1])]
    ax.plot(lim, lim, "k--", lw=0.8)
    ax.set(xlabel="data", ylabel=model_label, title=title)
    ax.legend(loc="upper left")


def ridgelines(ax, grid, densities, labels, *, overlap: float = 1.6, color: str = "tab:blue") -> None:
    """Stacked densities as in Li Fig. 3a: one row per label, the first at the top; each density divided by its
    own maximum so every row peaks ``overlap`` row spacings high; a black vertical line at 0, the labels at the
    left, a white background."""
    for row, (density, label) in enumerate(zip(densities, labels)):
        base = len(densities) - 1 - row
        curve = base + overlap * np.asarray(density) / (float(np.max(density)) or 1.0)
        ax.fill_between(grid, base, curve, color=color, alpha=0.25, lw=0)
        ax.plot(grid, curve, color=color, lw=0.9)
        ax.text(grid[0], base + 0.15, label, fontsize=9)
    ax.axvline(0, color="black", lw=0.9)
    ax.set_facecolor("white")
    ax.set_yticks([])
    ax.grid(False)


def hessian_entry_figure(snapshots, entries):
    """Li Fig. 6: (a) the bootstrap laws of ``entries`` (three column indices) over their std through training, on a
    signed log axis, one panel per entry; (b, c) a 100 x 100 block of the entries' correlation matrix at the first
    and the last snapshot where H ≠ 0."""
    from adaptsym.plasticity import live
    from adaptsym.symmetry import smoothed_density

    shown = live(snapshots)
    grid = np.linspace(-3, 3, 301)
    fig, axes = panels(len(entries) + 2, width=2.5, height=3.4)
    for ax, entry in zip(axes, entries):
        laws = [s.replicates[:, entry] / s.replicates[:, entry].std() for s in shown]
        densities = [smoothed_density(np.sign(v) * np.log10(1 + np.abs(v)), grid, 2 * (grid[1] - grid[0]))
                     for v in (law.numpy() for law in laws)]
        ridgelines(ax, grid, densities, [f"epoch {s.epoch}" for s in shown])
        ax.set(title=f"entry {entry}", xlabel="sign · log₁₀(1 + |entry / std|)")
    for ax, s in zip(axes[len(entries):], (shown[0], shown[-1])):
        block = s.statistics()["correlation"][:100, :100].nan_to_num().numpy()
        image = ax.imshow(block, cmap="RdBu_r", vmin=-1, vmax=1)
        ax.set(title=f"correlations, epoch {s.epoch}", xticks=[], yticks=[])
        ax.grid(False)
    fig.colorbar(image, ax=axes[-1], shrink=0.7)
    return fig


def normalised_mean_figure(snapshots, threshold: float, paper_share: float = 0.95, paper_coupled: float = 3.39e-4):
    """Li Fig. 7: (a) the laws of the std-normalised entry means through training, (b) the share below
    ``threshold`` with its error, (c) the numbers of significantly non-zero correlation coefficients, skewnesses and
    excess kurtoses per entry, each as a power of the number N of distinct Hessian entries
    (:func:`adaptsym.plasticity.coupling_exponent`)."""
    from adaptsym.plasticity import coupling_exponent, live

    shown = live(snapshots)
    epochs = [s.epoch for s in shown]
    fig, (ax_a, ax_b, ax_c) = panels(3, width=3.3)
    colours = plt.cm.viridis(np.linspace(0, 1, len(shown)))
    for colour, s in zip(colours, shown):
        means = s.normalised_means().numpy()
        ax_a.hist(np.log10(means[np.isfinite(means) & (means > 0)]), bins=40, histtype="step", density=True,
                  color=colour, label=f"epoch {s.epoch}")
    ax_a.axvline(np.log10(threshold), color="black", lw=0.8)
    ax_a.set(xlabel="log₁₀ |mean| / std", ylabel="density", title="(a) normalised entry means")
    ax_a.legend()
    share, error = np.array([s.small_share() for s in shown]).T
    ax_b.errorbar(epochs, share, yerr=error, marker="o", capsize=2, label="measured")
    ax_b.axhline(paper_share, color="grey", ls=":", label=f"Li: at least {paper_share:.0%}")
    ax_b.set(xlabel="epoch", ylim=(0, 1.02), title=f"(b) share of |mean|/std < {threshold}")
    ax_b.legend()
    tested = [s for s in shown if s.coupling is not None]
    n_entries = shown[0].n_entries
    for key, label in (("correlation_fraction", "correlation coefficients"), ("skewness_fraction", "skewnesses"),
                       ("kurtosis_fraction", "excess kurtoses")):
        ax_c.plot([s.epoch for s in tested], [coupling_exponent(s.coupling[key], n_entries) for s in tested], "o-",
                  label=label)
    ax_c.axhline(0.5, color="black", lw=0.8, ls="--", label="√N, the theorem's assumption")
    ax_c.axhline(coupling_exponent(paper_coupled, 8.68e12), color="grey", ls=":",
                 label=f"Li, end of training ({paper_coupled:g} of N = 8.68e12)")
    ax_c.set(xlabel="epoch", ylabel="log_N (non-zero statistics per entry)", ylim=(0, 1),
             title="(c) coupling-set size as a power of N")
    ax_c.legend()
    return fig


def spectrum_figure(snapshots, history):
    """Li Fig. 8: (a) the SLQ spectral density through training on symmetric-log axes (:func:`symlog_density`),
    (b) the training risk and accuracy through training."""
    from adaptsym.plasticity import live

    shown = live(snapshots)
    zero = [s.epoch for s in snapshots if s.zero]
    floor = 1e-4 * max(float(s.nodes.abs().max()) for s in shown)
    fig, (ax_a, ax_b) = panels(2, width=4.4, height=3.3)
    colours = plt.cm.viridis(np.linspace(0, 1, len(shown)))
    for colour, s in zip(colours, shown):
        symlog_density(ax_a, s.nodes, s.weights, floor, color=colour, label=f"epoch {s.epoch}")
    ax_a.set_title("(a) spectrum" + (f"; H = 0 exactly at epochs {zero}" if zero else ""))
    ax_a.legend()
    epochs = [h["epoch"] for h in history]
    ax_b.plot(epochs, [h["train_loss"] for h in history], label="training hinge risk")
    ax_b.plot(epochs, [h["train_accuracy"] for h in history], label="training accuracy")
    ax_b.set(xlabel="epoch", title="(b) risk and accuracy")
    ax_b.legend()
    return fig


def symlog_density(ax, nodes, weights, floor: float, bins_per_decade: float = 8, **style) -> None:
    """An SLQ quadrature ``(nodes, weights)`` as a density on a symmetric-log eigenvalue axis (linear within
    ``floor`` of 0), log density axis (Li Fig. 8a): smoothed in u = asinh(λ / floor), with a Gaussian of width
    1/``bins_per_decade`` decade, so that Ritz values at every scale show as bumps of their own; the density is per
    unit of u (it integrates to 1 over u), and the axis shows three decades below the highest curve drawn on ``ax``."""
    import torch

    from adaptsym.hessian import spectral_density

    transform = lambda t: torch.asinh(torch.as_tensor(t, dtype=torch.float64) / floor)  # noqa: E731
    reach = float(transform(nodes.abs().max())) + 0.5
    u = torch.linspace(-reach, reach, 2001, dtype=torch.float64)
    density = spectral_density(transform(nodes), weights, u, sigma=np.log(10) / bins_per_decade).numpy()
    ax.plot(floor * np.sinh(u.numpy()), density, **style)
    ax.set_xscale("symlog", linthresh=floor)
    decades = 10.0 ** np.arange(np.ceil(np.log10(floor)), np.log10(floor * np.sinh(reach)) + 1, 2)
    ax.set_xticks(np.concatenate([-decades[::-1], [0.0], decades]))  # every other decade: legible labels
    peak = max(float(np.max(line.get_ydata())) for line in ax.lines if len(line.get_ydata()))
    ax.set(yscale="log", ylim=(1e-3 * peak, 2 * peak), xlabel="eigenvalue λ", ylabel="density per unit of asinh(λ / floor)")


ZERO_COLOUR = "#2ca02c"
"""Colour of exact-zero-risk (plasticity) cells in :func:`phase_diagram`."""


def phase_diagram(ax, grid) -> None:
    """The complexity-matching phase diagram (Li §II.6.5, §III) of an :class:`adaptsym.complexity.ComplexityGrid`:
    final training hinge risk per cell.

    Training-set size runs along x, width along y, both as evenly spaced categories.  Positive risks are coloured
    on a log scale (colour bar), exact zeros (plasticity phase) in their own colour; every cell is annotated with
    its risk, and with a down arrow where the risk was still falling at the end of the budget.
    """
    risk = grid.final_risk
    positive = np.ma.masked_less_equal(risk, 0.0)
    zero = np.ma.masked_where(risk > 0.0, np.ones_like(risk))
    norm = None
    if positive.count():
        low, high = positive.min(), positive.max()
        norm = mcolors.LogNorm(low if high > low else low / 10, high)
    cmap = plt.get_cmap("magma_r")
    image = ax.imshow(positive, cmap=cmap, norm=norm, origin="lower", aspect="auto")
    ax.imshow(zero, cmap=mcolors.ListedColormap([ZERO_COLOUR]), origin="lower", aspect="auto")
    for i, j in np.ndindex(risk.shape):
        label = "0" if risk[i, j] <= 0 else f"{risk[i, j]:.2g}" + ("↓" if grid.still_falling[i, j] else "")
        shade = mcolors.to_rgb(ZERO_COLOUR) if risk[i, j] <= 0 else cmap(norm(risk[i, j]))[:3]
        luminance = 0.299 * shade[0] + 0.587 * shade[1] + 0.114 * shade[2]
        ax.text(j, i, label, ha="center", va="center", fontsize=9, color="black" if luminance > 0.5 else "white")
    ax.set_xticks(range(len(grid.n_trains)), [str(n) for n in grid.n_trains])
    ax.set_yticks(range(len(grid.widths)), [str(w) for w in grid.widths])
    ax.set_xlabel("training examples n")
    ax.set_ylabel(f"width (hidden units, {grid.depth} weight layers)")
    ax.grid(False)
    if norm is not None:
        ax.figure.colorbar(image, ax=ax, label="final training hinge risk")
    ax.legend(handles=[Patch(color=ZERO_COLOUR, label="zero risk: plasticity phase")], loc="upper left",
              bbox_to_anchor=(0, 1.12))
    ax.set_title("↓: risk still falling (>5% over last 10% of epochs)", fontsize=9, loc="right")


def boundary_figure(cells):
    """Li §III on the two cells beside the phase boundary (:func:`adaptsym.complexity.boundary_cells`): (a) the
    training risk and the order parameter η||∇R||² through training, (b) the spectra of their final Hessians on
    symmetric-log axes (or the statement H = 0)."""
    from adaptsym.order import order_parameter

    fig, (ax_a, ax_b) = panels(2, width=4.4, height=3.3)
    for cell, colour in zip(cells, ("tab:green", "tab:red")):
        label = f"width {cell.width}, n = {cell.n_train}"
        epochs = [h["epoch"] for h in cell.history]
        ax_a.plot(epochs, [h["train_loss"] for h in cell.history], color=colour, label=f"{label}: risk")
        ax_a.plot(epochs, order_parameter(cell.history), color=colour, ls="--", label=f"{label}: η‖∇R‖²")
        if cell.spectrum is None:
            ax_b.plot([], [], color=colour, label=f"{label}: H = 0 exactly")
            continue
        symlog_density(ax_b, cell.nodes, cell.weights, 1e-4 * float(cell.nodes.abs().max()), color=colour, label=label)
    ax_a.set(yscale="log", xlabel="epoch", title="(a) risk and order parameter")
    ax_a.legend()
    ax_b.set_title("(b) final Hessian spectrum")
    ax_b.legend()
    return fig


# Chapter 7: Zou & Huang's figures, each from the numbers an ``adaptsym.weight_space`` or
# ``adaptsym.generalisation`` function returns.

def training_figure(ensembles, steps_per_epoch):
    """Fig. 2a: test accuracy of the mean-field predictor against minibatch steps, mean and the 10-90%
    band over each scenario's networks; ``steps_per_epoch`` maps scenario -> minibatches per epoch."""
    fig, (ax,) = panels(1, width=5)
    for name, ensemble in ensembles.items():
        accuracy = ensemble.test_accuracy.numpy()
        steps = np.arange(1, accuracy.shape[1] + 1) * steps_per_epoch[name]
        ax.plot(steps, accuracy.mean(0), "o-", ms=3, label=name)
        ax.fill_between(steps, np.percentile(accuracy, 10, 0), np.percentile(accuracy, 90, 0), alpha=0.25)
    ax.set(xscale="log", xlabel="minibatch steps", ylabel="test accuracy (mean-field predictor)",
           title="Fig. 2a: training (band: 10-90% of networks)")
    ax.legend()
    return fig


def ensemble_figure(accuracies, convergence):
    """The kept configurations' test accuracies per scenario, and the convergence of their moments
    with the number of networks k (``convergence``: scenario -> (ks, RMSE); the last point, k = G/2,
    starred: the sampling noise)."""
    fig, (ax_acc, ax_conv) = panels(2)
    for name, accuracy in accuracies.items():
        ax_acc.hist(accuracy, bins=40, histtype="step", lw=1.4, label=name)
    ax_acc.set(xlabel="test accuracy of kept configurations", ylabel="count", title="the weight ensembles")
    ax_acc.legend()
    for name, (ks, curve) in convergence.items():
        ax_conv.loglog(ks[:-1], curve[:-1], "o-", label=name)
        ax_conv.loglog(ks[-1:], curve[-1:], "k*", ms=9)
    ax_conv.set(xlabel="networks k in the subset", ylabel="RMSE(moments of k, of all)",
                title="convergence with ensemble size (★: k = G/2)")
    ax_conv.legend()
    return fig


def configuration_map_figure(found):
    """Fig. 2b from a :class:`adaptsym.weight_space.ConfigurationMap`: the t-SNE map of initial and
    learned configurations, and their projections on the learned first principal axis."""
    fig, (ax, ax_pc) = panels(2, width=4.0, height=3.4)
    ax.scatter(*found.embedding[:found.n_initial].T, s=6, label="random initialisation")
    ax.scatter(*found.embedding[found.n_initial:].T, s=6, label="learned (kept) configurations")
    ax.set(title="Fig. 2b: t-SNE of weight configurations", xticks=[], yticks=[])
    ax.legend(loc="best", markerscale=2)
    for name, projection in (("initial", found.initial_projection), ("learned", found.learned_projection)):
        ax_pc.hist(projection, bins=40, histtype="step", lw=1.4, label=name)
    ax_pc.set(xlabel="projection on the learned first principal axis", ylabel="count",
              title=f"first axis: {100 * found.explained:.1f}% of the learned variance")
    ax_pc.legend()
    return fig


def reconstruction_figure(rows, model_label: str):
    """One :func:`reconstruction_scatter` per ``(data moments, model moments, title)`` in ``rows``."""
    fig, axes = panels(len(rows), width=3.2, height=3.0)
    for ax, (data, model, title) in zip(axes, rows):
        reconstruction_scatter(ax, data, model, model_label, title)
    return fig


def polarity_figure(projections, rows):
    """Two polarities: histograms of the configurations' projections on each region's leading
    eigenvector / √N (``projections``: region -> array), then Fig. 3b of the two-polarity mixture
    (``rows`` as in :func:`reconstruction_figure`)."""
    fig, axes = panels(1 + len(rows), width=3.2, height=3.0)
    for region, projection in projections.items():
        axes[0].hist(projection, bins=40, histtype="step", lw=1.4, label=region)
    axes[0].set(xlabel="projection on the leading eigenvector / √N", ylabel="configurations",
                title="two polarities (under)")
    axes[0].legend()
    for ax, (data, model, title) in zip(axes[1:], rows):
        reconstruction_scatter(ax, data, model, "mixture of two BP fits", title)
    return fig


def coupling_histograms(overall: tuple[str, np.ndarray, np.ndarray], regions):
    """Figs. 3a and 3d: densities of the couplings J_ij (log scale) and fields h_i of the whole
    network (``overall``: (label, couplings, fields)) and per region (``regions``: region ->
    (couplings, fields))."""
    fig, (ax_J, ax_h) = panels(2)
    label, couplings, fields = overall
    ax_J.hist(couplings, bins=80, histtype="step", density=True, lw=1.0, color="k", label=label)
    ax_h.hist(fields, bins=40, histtype="step", density=True, lw=1.0, color="k", label=label)
    for region, (couplings, fields) in regions.items():
        ax_J.hist(couplings, bins=80, histtype="step", density=True, lw=1.3, label=region)
        ax_h.hist(fields, bins=40, histtype="step", density=True, lw=1.3, label=region)
    ax_J.set(yscale="log", xlabel="J_ij", ylabel="density", title="Fig. 3a/3d: couplings (under, BP)")
    ax_h.set(xlabel="h_i", title="fields (under, BP)")
    ax_J.legend()
    return fig


def energy_accuracy_figure(sides_by_region, titles):
    """Fig. 3c: test accuracy against Ising energy density per region (``sides_by_region``: region ->
    list of :class:`adaptsym.weight_space.EnergySide`), a vertical line at each model's typical energy."""
    fig, axes = panels(len(sides_by_region), width=3.2, height=2.8)
    for ax, (region, sides) in zip(axes, sides_by_region.items()):
        for side in sides:
            points = ax.scatter(side.energies, side.accuracy, s=2, alpha=0.3)
            ax.axvline(side.typical, color=points.get_facecolor()[0][:3], lw=1,
                       label=f"{side.label} typical {side.typical:.2f}, data {side.energies.mean():.2f}".strip())
        ax.set(xlabel="energy density E/N", ylabel="test accuracy", title=titles[region])
        ax.legend(loc="lower left")
    return fig


def pseudolikelihood_figure(pl_models, bp_couplings):
    """Fig. 4: densities of the pseudolikelihood couplings J_i<j and fields per region (``pl_models``:
    region -> (couplings, fields)), and the PL couplings against the BP ones (``bp_couplings``: region
    -> J_i<j)."""
    fig, axes = panels(3, width=3.2, height=2.8)
    for region, (couplings, h) in pl_models.items():
        axes[0].hist(couplings, bins=80, histtype="step", density=True, lw=1.3, label=region)
        axes[1].hist(h, bins=40, histtype="step", density=True, lw=1.3, label=region)
        axes[2].scatter(bp_couplings[region], couplings, s=2, alpha=0.3, label=region)
    axes[0].set(yscale="log", xlabel="J_ij", ylabel="density", title="Fig. 4: couplings (under, PL)")
    axes[1].set(xlabel="h_i", title="fields (under, PL)")
    axes[2].set(xlabel="J_ij from BP", ylabel="J_ij from PL", title="the two models")
    axes[0].legend()
    return fig


def three_point_figure(tests):
    """Fig. 12: each model's three-point moments against the data's per region (``tests``: region ->
    :class:`adaptsym.weight_space.ThreePointTest`), labelled by the fraction predicted."""
    fig, axes = panels(len(tests), width=3.2, height=3.0)
    for ax, (region, test) in zip(axes, tests.items()):
        for model, predicted in test.predictions.items():
            ax.scatter(test.observed, predicted, s=2, alpha=0.3,
                       label=f"{model}: {100 * test.fractions[model]:.0f}% predicted")
        lim = [test.observed.min(), test.observed.max()]
        ax.plot(lim, lim, "k--", lw=0.8)
        ax.set(xlabel="<s_i s_j s_k> data", ylabel="<s_i s_j s_k> model (MC)", title=f"Fig. 12, under, {region}")
        ax.legend(loc="upper left", markerscale=4)
    return fig


def depth_figure(comparison):
    """App. G / Fig. 18 from a :class:`adaptsym.generalisation.DepthComparison`: deep test accuracy
    against hidden width (mean ± std over networks), the shallow net's as a band."""
    fig, (ax,) = panels(1, width=4.5)
    deep, shallow = comparison.deep, comparison.shallow
    ax.errorbar(comparison.widths, deep.mean(1), deep.std(1), fmt="o-", capsize=3, label="deep 20-n-n-10")
    ax.axhline(shallow.mean(), color="k", label="shallow 20-10")
    ax.axhspan(shallow.mean() - shallow.std(), shallow.mean() + shallow.std(), color="k", alpha=0.15)
    ax.set(xlabel="hidden width n", ylabel="test accuracy (binary draws)", title="App. G / Fig. 18: deep vs shallow")
    ax.legend()
    return fig


def double_descent_figure(n_weights, errors, n_train: int):
    """App. F / Fig. 17: training and test error (mean ± std over networks) against the number of
    weights, binary and real-valued (``errors``: (kind, split) -> (sizes, networks))."""
    fig, (ax,) = panels(1, width=5)
    for kind, colour in (("binary", "tab:blue"), ("real", "tab:red")):
        for split, style in (("test", "o-"), ("train", "s--")):
            e = errors[kind, split]
            ax.errorbar(n_weights, e.mean(1), e.std(1), fmt=style, color=colour, capsize=2, label=f"{kind}, {split}")
    ax.axvline(n_train, color="k", lw=0.6, label="weights = training examples")
    ax.set(xscale="log", xlabel="number of weights", ylabel="error", title=f"App. F / Fig. 17 ({n_train} examples)")
    ax.legend()
    return fig


# Chapters 1-3

def maxent_figure(found):
    """Li eq. 1 solved (:class:`adaptsym.umwelt.EnclosedMaxEnt`): the dual's multipliers against the teacher's that
    generated the constraints, and the primal law against the dual's, every input and gate state."""
    fig, (ax_lam, ax_law) = panels(2)
    lam, teacher = found.solution.multipliers, found.teacher_multipliers
    ax_lam.plot(teacher, lam, ".", ms=4)
    ax_lam.plot([teacher.min(), teacher.max()], [teacher.min(), teacher.max()], "k-", lw=0.6)
    ax_lam.set(xlabel="teacher's multiplier λ*", ylabel="dual's multiplier λ", title="eqs. 2-3: λ* recovered")
    dual, primal = found.solution.law.ravel(), found.primal.law.ravel()
    ax_law.loglog(dual, primal, ".", ms=2)
    ax_law.plot([dual.min(), dual.max()], [dual.min(), dual.max()], "k-", lw=0.6)
    ax_law.set(xlabel="μ(h|x), dual (exponential family)", ylabel="μ(h|x), primal (no form assumed)",
               title=f"entropy {found.entropy_fraction:.0%} of ln 2^n")
    return fig


def depth_growth_figure(depths, counts, ylabel: str, title: str):
    """Counts against depth on a log axis, one line per entry of ``counts`` (label -> count per depth): Li's
    parameters (eqs. 2, 4) or basis circuits and weights (eq. 11)."""
    fig, (ax,) = panels(1, width=4.5)
    for style, (label, values) in zip(("o-", "s-", "^-", "v-"), counts.items()):
        ax.semilogy(depths, values, style, label=label)
    ax.set(xlabel="depth L", ylabel=ylabel, title=title)
    ax.legend()
    return fig


def _layer_curves(ax, temperatures, curves, **labels) -> None:
    """One log-log line per gate layer (a column of ``curves``) against temperature; zeros drawn at 1e-300."""
    for layer in range(curves.shape[1]):
        ax.loglog(temperatures, np.maximum(curves[:, layer], 1e-300), "o-", ms=3, label=f"layer {layer + 1}")
    ax.set(xlabel="temperature T", ylim=(1e-8, 1.5), **labels)
    ax.legend()


def gate_law_figure(found):
    """Li eq. 7 (:class:`adaptsym.umwelt.GateLawConvergence`): per network, the distance of each layer's gate law
    at temperature T from the ReLU gates."""
    fig, axes = panels(len(found.distance))
    for ax, (name, tv) in zip(axes, found.distance.items()):
        _layer_curves(ax, found.temperatures, tv, ylabel="TV(gate law at T, ReLU gates)", title=name)
    return fig


def marginal_figure(found, title: str):
    """Li eq. 8 (:class:`adaptsym.umwelt.MarginalComparison`): the exact marginal's distance from the degenerate
    approximation and from the ReLU point mass (eq. 7), per layer, against temperature; the last over the inputs
    without a tie of eq. 7 (no gate layer entirely closed below the top one)."""
    fig, (ax_degenerate, ax_relu, ax_untied) = panels(3)
    _layer_curves(ax_degenerate, found.temperatures, found.to_degenerate, ylabel="TV(exact, degenerate eq. 8)",
                  title=title)
    _layer_curves(ax_relu, found.temperatures, found.to_relu, ylabel="TV(exact, ReLU point mass)",
                  title="all inputs")
    _layer_curves(ax_untied, found.temperatures, found.untied_to_relu(), ylabel="TV(exact, ReLU point mass)",
                  title=f"inputs without a tie ({1 - found.tied_share():.1%})")
    return fig


def sampled_output_figure(found, network: str):
    """Li §II.2 (:class:`adaptsym.stochastic.OutputSamples`): per input, histograms of the stochastic network's
    sampled outputs at each temperature, and the ReLU network's output."""
    fig, axes = panels(len(found.relu))
    for k, ax in enumerate(axes):
        samples = found.samples.values()
        bins = np.linspace(min(s[:, k].min() for s in samples), max(s[:, k].max() for s in samples), 40)
        for t, s in found.samples.items():
            ax.hist(s[:, k], bins=bins, alpha=0.6, label=f"T = {t}")
        ax.axvline(found.relu[k], color="k", lw=1, label="ReLU network")
        ax.set(xlabel="sampled output T(x)", ylabel="samples", title=f"test input {k}, {network}")
    axes[0].legend()
    return fig


def relu_convergence_figure(curves):
    """Li eqs. 7-8: per network (name -> :class:`adaptsym.stochastic.ConvergenceCurve`), the sampled outputs'
    distance from the ReLU output against temperature; zeros drawn at 1e-18."""
    fig, axes = panels(len(curves))
    for ax, (name, curve) in zip(axes, curves.items()):
        ax.loglog(curve.temperatures, np.maximum(curve.relative_sample_error, 1e-18), "o-", ms=3,
                  label="mean |sample − ReLU|")
        ax.loglog(curve.temperatures, np.maximum(curve.relative_mean_error, 1e-18), "s--", ms=3,
                  label="|mean of samples − ReLU|")
        ax.set(xlabel="temperature T", ylabel="error / mean |T_ReLU(x)|", title=name, ylim=(1e-18, 10))
        ax.legend()
    return fig


def gradient_gap_figure(found):
    """Generalised EM (:class:`adaptsym.stochastic.GradientGaps`): the relative distance of the M-step gradient with
    sampled gates from backpropagation against the E-step's temperature, per network; zeros drawn at 1e-18."""
    fig, (ax,) = panels(1, width=4.5)
    for name, gap in found.gaps.items():
        ax.loglog(found.temperatures, np.maximum(gap, 1e-18), "o-", ms=3, label=name)
    ax.set(xlabel="temperature T of the E-step", ylabel="|g_T − g_backprop| / |g_backprop|", ylim=(1e-18, 10),
           title=f"mean over {found.n_draws} E-steps")
    ax.legend()
    return fig


def temperature_training_figure(histories):
    """Training the stochastic network (``histories``: temperature -> run history, 0 the ReLU run): the ReLU
    network's hinge risk (train solid, test dashed, the stochastic network's own dotted) and accuracy per epoch."""
    fig, (ax_loss, ax_acc) = panels(2, width=4.2, height=3.2)
    for t, history in histories.items():
        epochs = [h["epoch"] for h in history]
        label = "deterministic (ReLU)" if t == 0 else f"T = {t}"
        line, = ax_loss.plot(epochs, [h["train_loss"] for h in history], label=label)
        ax_loss.plot(epochs, [h["test_loss"] for h in history], "--", color=line.get_color())
        if t:
            ax_loss.plot(epochs[1:], [h["train_stochastic_loss"] for h in history[1:]], ":", color=line.get_color())
        ax_acc.plot(epochs, [h["train_accuracy"] for h in history], color=line.get_color(), label=label)
        ax_acc.plot(epochs, [h["test_accuracy"] for h in history], "--", color=line.get_color())
    ax_loss.set(xlabel="epoch", ylabel="hinge risk of the ReLU network", yscale="log",
                title="train (solid), test (dashed), stochastic (dotted)")
    ax_acc.set(xlabel="epoch", ylabel="accuracy of the ReLU network", ylim=(0.5, 1.0),
               title="train (solid), test (dashed)")
    ax_acc.legend()
    return fig


def basis_circuit_figure(found):
    """Li Fig. 2 and its caption from a :class:`adaptsym.circuits.CircuitAssembly`: the basis circuits
    (:func:`circuit_diagram`), the perturbation Ω of the highlighted circuit by one of its weights (a curvy dashed
    edge, :func:`wavy_edge`), the assembly into the output gate, and the label's feedback: the hinge loss compares
    y with T(x), and L'(yT) y Σ Ω flows back to the weight (eqs. 12, 13, 16)."""
    fig, ax = plt.subplots(figsize=(8.5, 4.6))
    ys = circuit_diagram(ax, found.weights, found.gates, found.path, found.largest, found.output)
    layer, i, j = found.weight
    start, end = (layer - 1, ys[layer - 1][i]), (layer, ys[layer][j])
    wavy_edge(ax, start, end, color="tab:purple", lw=2.2, ls="--", zorder=4)
    middle = ((start[0] + end[0]) / 2, (start[1] + end[1]) / 2)
    bottom, top = min(float(np.min(y)) for y in ys), max(float(np.max(y)) for y in ys)
    ax.annotate(f"perturbation: Ω = ∂Ψ/∂w = {found.perturbation:.3f}\n"
                f"Σ Ω over {found.n_perturbations} circuits = ∂T/∂w = {found.gradient:.3f}", middle,
                xytext=(middle[0], bottom - 0.75), ha="center", va="center", fontsize=9, color="tab:purple",
                bbox=dict(boxstyle="round", fc="white", ec="tab:purple"), zorder=5,
                arrowprops=dict(arrowstyle="->", color="tab:purple"))
    depth = len(found.weights)
    label_at = (depth + 0.8, 0.0)
    ax.annotate(f"label y = {found.label:+.0f}", label_at, ha="center", va="center", fontsize=9,
                bbox=dict(boxstyle="round", fc="white", ec="tab:orange"))
    ax.annotate("", (label_at[0] - 0.3, 0.0), xytext=(depth + 0.08, 0.0),
                arrowprops=dict(arrowstyle="->", color="tab:orange"))
    ax.text(depth + 0.4, -0.35, f"L′(yT) = {found.loss_derivative:.0f}", ha="center", va="top", fontsize=9,
            color="tab:orange")
    ax.annotate("", middle, xytext=(label_at[0], label_at[1] + 0.3),
                arrowprops=dict(arrowstyle="->", color="tab:orange", ls="--", connectionstyle="arc3,rad=0.3"))
    ax.text((middle[0] + label_at[0]) / 2, top + 0.55,
            f"feedback: ∂L/∂w = L′(yT) · y · Σ Ω = {found.risk_gradient:.3f}", ha="center", fontsize=9,
            color="tab:orange")
    ax.set_xlim(-0.3, depth + 1.2)
    ax.set_ylim(bottom - 1.2, top + 0.9)
    return fig


def feedback_loop_figure(found):
    """Li eq. 13 (:class:`adaptsym.circuits.FeedbackLoop`): the risk through training, the shift of the signed
    circuits' distribution from the first snapshot's equal-mass bins, their mean over std, and the assembly."""
    fig, (ax_risk, ax_shift, ax_dist, ax_margin) = panels(4, width=3.0)
    history = found.history
    ax_risk.semilogy([h["epoch"] for h in history], [h["train_loss"] for h in history], label="train")
    ax_risk.semilogy([h["epoch"] for h in history], [h["test_loss"] for h in history], label="test")
    ax_risk.plot(found.epochs, found.train_risk, "ko", ms=4)
    ax_risk.set(xlabel="gradient step", ylabel="hinge risk", title="the loop (eq. 13)")
    ax_risk.legend()
    levels = np.linspace(0, 1, found.mass_shift.shape[1] + 1)
    colours = plt.cm.viridis(np.linspace(0, 1, len(found.epochs)))
    for c, epoch, shift in zip(colours[1:], found.epochs[1:], found.mass_shift):
        ax_shift.stairs(shift, levels, color=c, label=f"step {epoch}")
    ax_shift.axhline(0, color="k", lw=0.6)
    ax_shift.set(xlabel="quantile bin of yΨ at step 0", ylabel="mass − mass at step 0", title="distribution shift")
    ax_shift.legend()
    ax_dist.plot(found.epochs, found.asymmetry, "o-")
    ax_dist.set(xlabel="gradient step", ylabel="mean / std of yΨ", title="shift vs spread")
    ax_margin.plot(found.epochs, found.mean_margin, "o-", label="mean yT(x)")
    ax_margin.plot(found.epochs, found.positive_fraction, "s-", label="fraction yΨ > 0")
    ax_margin.axhline(1, color="k", lw=0.6)
    ax_margin.set(xlabel="gradient step", title="the assembly")
    ax_margin.legend()
    return fig


def cancellation_figure(scaling):
    """The cancellation of circuits in their sum (:class:`adaptsym.circuits.CancellationScaling`): the ratio
    Σ|Ψ| / |ΣΨ| (geometric mean per depth and width) against the number of open circuits and against the effective
    number (Σ|Ψ|)² / ΣΨ², each with its fitted exponent and the random-sign slope 1/2; and the distribution of
    T / √(ΣΨ²) against the standard normal (a sum of independent random-sign terms)."""
    fig, axes = panels(3, width=3.3)
    colours = plt.cm.viridis(np.linspace(0, 0.9, len(scaling.depths)))
    for ax, against, xlabel in zip(axes, ("open", "effective"), ("open circuits N", "effective number (Σ|Ψ|)²/ΣΨ²")):
        counts, ratios = scaling.cell_means(against)
        for colour, depth, count, ratio in zip(colours, scaling.depths, counts, ratios):
            ax.loglog(np.exp(count), np.exp(ratio), "o-", color=colour, ms=4, label=f"L = {depth}")
        alpha, error = scaling.exponent(against)
        slope, intercept = np.polyfit(counts.ravel(), ratios.ravel(), 1)
        span = np.linspace(counts.min(), counts.max(), 2)
        ax.loglog(np.exp(span), np.exp(intercept + slope * span), "k-", lw=0.8, label=f"fit α = {alpha:.3f} ± {error:.3f}")
        ax.loglog(np.exp(span), np.exp(ratios.ravel()[counts.argmin()] + 0.5 * (span - counts.min())), "k:", lw=1,
                  label="slope 1/2")
        ax.set(xlabel=xlabel, ylabel="Σ|Ψ| / |ΣΨ| (geometric mean)", title=f"against the {against} count")
        ax.legend()
    values = scaling.normalised_output[np.isfinite(scaling.normalised_output)]
    grid = np.linspace(-4, 4, 200)
    axes[2].hist(np.clip(values, -4, 4), bins=60, density=True, color="tab:blue", alpha=0.6,
                 label=f"T/√ΣΨ², mean square {np.mean(values ** 2):.2f}")
    axes[2].plot(grid, np.exp(-grid ** 2 / 2) / np.sqrt(2 * np.pi), "k-", lw=1, label="standard normal")
    axes[2].set(xlabel="T(x) / √(Σ Ψ²)", ylabel="density", title="the sum against its random-sign scale")
    axes[2].legend()
    return fig


def informational_perturbation_figure(found):
    """The loop at risk level (:class:`adaptsym.circuits.InformationalPerturbations`): the hinge risk and the
    fraction of examples with margin yT < 1 (L' ≠ 0) at each snapshot, and the distribution of margins per snapshot
    with the margin 1 below which an example feeds back."""
    fig, (ax_risk, ax_margin) = panels(2, width=3.8)
    ax_risk.plot(found.epochs, found.risk, "o-", label="hinge risk R")
    ax_risk.plot(found.epochs, found.fraction, "s-", label="fraction with yT < 1")
    ax_risk.set(xlabel="gradient step", ylabel="value", title="informational perturbations", ylim=(0, None))
    ax_risk.legend()
    colours = plt.cm.viridis(np.linspace(0, 0.9, len(found.epochs)))
    for colour, epoch, margins in zip(colours, found.epochs, found.margins):
        ax_margin.plot(np.sort(margins), np.arange(1, len(margins) + 1) / len(margins), color=colour,
                       label=f"step {epoch}")
    ax_margin.axvline(1, color="k", lw=0.8)
    ax_margin.set(xlabel="margin yT(x)", ylabel="cumulative fraction", title="margins (L′ ≠ 0 left of 1)")
    ax_margin.legend()
    return fig


def published_data_figure(found, projection, scatter_key):
    """Zou & Huang's own data: the leading correlation eigenvalue over the noise edge per region and scenario
    (``found``: (scenario, region) -> :class:`adaptsym.zou_huang.PublishedRegion`), their 100 configurations'
    projections on a region's leading eigenvector / √N, and Fig. 3b for their own model of ``scatter_key``."""
    fig, (ax_mode, ax_projection, ax_fit) = panels(3, width=3.4, height=3.0)
    labels = [f"{s.replace('-para', '')} {r}" for s, r in found]
    ax_mode.bar(range(len(found)), [p.mode[0] / p.noise_edge for p in found.values()], color="tab:blue")
    ax_mode.axhline(1, color="k", lw=0.8)
    ax_mode.set_xticks(range(len(found)), labels, rotation=60, ha="right", fontsize=9)
    ax_mode.set(yscale="log", ylabel="λ₁ / noise edge", title="collective modes (published moments)")
    region = found[scatter_key]
    ax_projection.hist(projection / np.sqrt(len(region.mode[1])), bins=20, histtype="step", lw=1.4)
    ax_projection.set(xlabel=f"projection on the {scatter_key[1]} mode / √N", ylabel="configurations",
                      title=f"their {len(projection)} configurations")
    reconstruction_scatter(ax_fit, region.moments, region.model_moments, "their model (BP)",
                           f"Fig. 3b, {' '.join(scatter_key)}: RMSE {region.rmse_model:.3f}")
    return fig


def tied_cost_figure(found):
    """What Li's eq. 4 costs (:class:`adaptsym.umwelt.TiedCost`): per width, KL(full || tied) per gate against the
    scale, beside the information the constraints carry (ln 2 minus the full solution's entropy per gate, dotted), and
    the tied law's largest constraint residual."""
    fig, (ax_kl, ax_residual) = panels(2)
    scales = np.arange(1, found.depth + 1)
    for k, width in enumerate(found.widths):
        line, = ax_kl.plot(scales, found.kl[k], "o-", ms=3, label=f"width {width}")
        ax_kl.plot(scales, np.log(2) - found.full_entropy[k], ":", color=line.get_color())
        ax_residual.semilogy(scales, np.maximum(found.residual[k], 1e-17), "o-", ms=3, color=line.get_color())
    ax_kl.set(xlabel="scale s", ylabel="KL(full || tied) per gate (nats)", xticks=scales,
              title="eq. 4 against eq. 1 (dotted: ln 2 - H_full)")
    ax_residual.set(xlabel="scale s", ylabel="max |E_tied[c h] - τ|", xticks=scales, title="constraints missed")
    ax_kl.legend()
    return fig


def temperature_risk_figure(training):
    """§2.4 (:class:`adaptsym.stochastic.TemperatureTraining`): the final training hinge risk of the ReLU network
    against the temperature of the E-step, one dot per seed, the mean with twice its standard error, and the
    deterministic runs' mean as a line with a band of twice their standard error."""
    fig, (ax,) = panels(1, width=4.2, height=3.0)
    deterministic = training.final_risks(0.0)
    sem = deterministic.std(ddof=1) / np.sqrt(len(deterministic))
    temperatures = sorted(t for t in training.histories if t > 0)
    ax.axhline(deterministic.mean(), color="k", lw=1, label="deterministic (ReLU), ± 2 s.e.")
    ax.axhspan(deterministic.mean() - 2 * sem, deterministic.mean() + 2 * sem, color="k", alpha=0.1)
    for t in temperatures:
        risks = training.final_risks(t)
        ax.plot([t] * len(risks), risks, ".", color="tab:blue", alpha=0.5)
    means = [training.final_risks(t).mean() for t in temperatures]
    errors = [2 * training.final_risks(t).std(ddof=1) / np.sqrt(len(training.final_risks(t))) for t in temperatures]
    ax.errorbar(temperatures, means, yerr=errors, fmt="o-", color="tab:blue", label="sampled gates, mean ± 2 s.e.")
    ax.set(xscale="log", xlabel="temperature T of the E-step", ylabel="final train hinge risk of the ReLU network")
    ax.legend()
    return fig


_BOUND_LABELS = {"prior_elbo": "prior ELBO", "point_mass_elbo": "point-mass ELBO (ReLU gates)",
                 "backprop_objective": "backprop objective log μ(y | ĥ, x)"}


def likelihood_bounds_figure(reading, shown: str = "logistic"):
    """§2.5 (:class:`adaptsym.stochastic.EMReading`): the candidate bounds minus the exact log μ_L(y|x) against T for
    the ``shown`` network (mean over inputs, and the largest for the backprop objective); the fraction of inputs on
    which the backprop objective exceeds log μ_L, and on which the ReLU gates maximise the point-mass bound, per
    network; the exact log μ_L along each M-step's training."""
    fig, (ax_mean, ax_above, ax_map, ax_train) = panels(4, width=3.1, height=3.0)
    bounds = reading.bounds[shown]
    t = bounds.temperatures
    ax_mean.axhline(0, color="k", lw=1)
    for name, label in _BOUND_LABELS.items():
        line, = ax_mean.plot(t, bounds.excess(name).mean(1), ".-", label=label)
    ax_mean.plot(t, bounds.excess("backprop_objective").max(1), ":", color=line.get_color(), label="largest, backprop")
    ax_mean.set(xscale="log", xlabel="T", ylabel="bound - exact log μ_L(y|x) (nats)",
                title=f"{shown}-trained network")
    ax_mean.set_yscale("symlog", linthresh=1e-3)
    ax_mean.legend()
    for network, found in reading.bounds.items():
        line, = ax_above.plot(t, found.fraction_above("backprop_objective", 1e-10), "o-", label=network)
        ax_map.plot(t, found.map_fraction(), "o-", color=line.get_color(), label=network)
    ax_above.plot(t, reading.bounds[shown].fraction_above("prior_elbo", 1e-10), "k:", label="prior / point-mass ELBO")
    ax_above.set(xscale="log", xlabel="T", ylim=(-0.03, 1.03), title="backprop objective > log μ_L",
                 ylabel="fraction of inputs")
    ax_above.legend()
    ax_map.set(xscale="log", xlabel="T", ylim=(-0.03, 1.03), title="ReLU gates maximise the point-mass ELBO",
               ylabel="fraction of inputs")
    styles = {"logistic": "-", "hinge": "--"}
    colours = plt.cm.viridis(np.linspace(0, 0.85, len(t)))
    for loss, trace in reading.traces.items():
        for k, (temperature, colour) in enumerate(zip(t, colours)):
            ax_train.plot(trace.steps, trace.log_likelihood[:, k], styles.get(loss, ":"), color=colour,
                          label=f"T = {temperature:g}" if loss == "logistic" else None)
    ax_train.set(xlabel="gradient step", ylabel="exact mean log μ_L(y|x)",
                 title="M-steps: logistic (solid), hinge (dashed)")
    ax_train.legend(ncol=2)
    return fig


def free_energy_figure(curves, network):
    """§2.6: eq. 9's F[q] of one gate against q = P(h = 1) at several temperatures, the minimiser σ(z/T) marked
    (:class:`adaptsym.stochastic.GateFreeEnergyCurves`), and the network's mean energy, -T S, free energy and the
    joint minimum along the temperature sweep (:class:`adaptsym.stochastic.NetworkFreeEnergy`)."""
    fig, (ax_gate, ax_net) = panels(2, width=4.2, height=3.2)
    for temperature, values in curves.curves.items():
        line, = ax_gate.plot(curves.q, values, label=f"T = {temperature:g}")
        q_star = curves.minimiser(temperature)
        ax_gate.plot([q_star], [np.interp(q_star, curves.q, values)], "o", color=line.get_color())
    ax_gate.set(xlabel="q = P(h = 1)", ylabel="F[q] = -q z - T S(q)", title=f"one gate, z = {curves.z:g}: min at σ(z/T)")
    ax_gate.legend()
    t = network.temperatures
    ax_net.plot(t, network.free_energy, "k-", lw=2, label="F = U - T S (ancestral law)")
    ax_net.plot(t, network.energy, ".-", label="U = E[-Σ z·h]")
    ax_net.plot(t, -t * network.entropy, ".-", label="-T S")
    ax_net.plot(t, network.joint, "--", label=r"min over all laws, $-T \log \sum_h e^{-E(h)/T}$")
    ax_net.axhline(network.relu_energy, color="grey", lw=1, ls=":", label="-Σ ReLU(z), T = 0")
    ax_net.set(xscale="log", xlabel="T", ylabel="mean over inputs", title="the network's gates")
    ax_net.legend()
    return fig


def entropy_floor_figure(floor):
    """§2.7 (:class:`adaptsym.stochastic.EntropyFloor`): per training-sample size, the logistic risk on the
    training sample (dashed) and on the population (solid, exact over y) through training, with the floor S(y|x);
    and the population's KL term, the risk above its floor."""
    fig, (ax, ax_kl) = panels(2, width=4.2, height=3.2)
    for n, trace in floor.traces.items():
        line, = ax.plot(trace.steps, trace.population_risk, label=f"population, n = {n}")
        ax.plot(trace.steps, trace.train_risk, "--", color=line.get_color(), label=f"training sample, n = {n}")
        ax_kl.plot(trace.steps, trace.population_kl, color=line.get_color(), label=f"n = {n}")
    entropy = next(iter(floor.traces.values())).entropy
    ax.axhline(entropy, color="k", lw=1, ls=":", label=f"S(y|x) = {entropy:.3f}")
    ax.set(xlabel="Adam step", ylabel="logistic risk (nats)", yscale="log")
    ax.legend()
    ax_kl.set(xlabel="Adam step", ylabel="population risk - S(y|x) = KL (nats)", yscale="log")
    ax_kl.legend()
    return fig


# Chapter 8: freezing the interior (Fig. 11) and node-permutation symmetry (Fig. 10).

def freezing_figure(experiment):
    """Fig. 11 from a :class:`adaptsym.freezing.FreezingExperiment`: the test accuracy of the mean-field
    predictor and the training loss against epochs, mean ± standard error over the networks, trained
    normally and with the interior frozen; the target accuracy of the training-time comparison dashed."""
    fig, (ax_acc, ax_loss) = panels(2, width=3.8)
    for name in ("normal", "frozen"):
        run = getattr(experiment, name)
        epochs = np.arange(1, run.test_accuracy.shape[1] + 1)
        final, final_error = run.final()
        label = f"{name} (final binary accuracy {final:.3f} ± {final_error:.3f})"
        for ax, values in ((ax_acc, run.test_accuracy), (ax_loss, run.train_loss)):
            error = values.std(0, ddof=1) / np.sqrt(len(values))
            ax.errorbar(epochs, values.mean(0), error, fmt="o-", ms=3, capsize=2, label=label)
    ax_acc.axhline(experiment.target, color="k", lw=0.8, ls="--")
    ax_acc.set(xlabel="epoch", ylabel="test accuracy (mean-field predictor)", title="Fig. 11: ITR frozen vs trained")
    ax_acc.legend()
    ax_loss.set(xlabel="epoch", ylabel="training cross-entropy", title="training loss")
    return fig


def permutation_profiles_figure(profiles):
    """Fig. 10: the entropy landscape s(d) of each permutation symmetry ratio's model around each reference
    (``profiles``: (ratio, reference index) -> :class:`adaptsym.landscape.Landscape`), one panel per
    reference, beside the bound -d ln d - (1 - d) ln(1 - d)."""
    refs = sorted({k for _, k in profiles})
    fig, axes = panels(len(refs), width=3.4)
    for ax, k in zip(axes, refs):
        curves = [(ratio, found) for (ratio, ref), found in sorted(profiles.items()) if ref == k]
        for ratio, found in curves:
            order = np.argsort(found.d)
            ax.plot(found.d[order], found.s[order], label=f"ρ = {ratio:g}")
        widest = max((found for _, found in curves), key=lambda found: np.ptp(found.d))
        order = np.argsort(widest.d)
        ax.plot(widest.d[order], widest.bound[order], "k:", lw=1, label="bound")
        ax.set(xlabel="distance d", ylabel="entropy s", title=f"Fig. 10: reference {k}")
        ax.legend()
    return fig


# Chapter 8: the entropy landscape (Zou & Huang §IV, Figs. 5, 7-9, 13-14), from the numbers ``adaptsym.landscape``
# returns.

def landscape_figure(rows):
    """Fig. 5, one row per entry of ``rows`` (title -> {label: :class:`adaptsym.landscape.Sweep`}): the distance d
    against the coupling field x swept forward (solid) and backward (dashed), points where BP did not converge
    crossed out; and the entropy s against d at the converged points (dots: a jump leaves a gap) beside the bound
    -d ln d - (1 - d) ln(1 - d) (dotted)."""
    from adaptsym.landscape import distance_bound

    fig, axes = plt.subplots(len(rows), 2, figsize=(TEXT_WIDTH, 2.8 * len(rows)), squeeze=False, constrained_layout=True)
    grid = np.linspace(0, 1, 201)
    for (ax_d, ax_s), (title, sweeps) in zip(axes, rows.items()):
        for k, (label, sweep) in enumerate(sweeps.items()):
            colour = f"C{k % 10}"
            for found, style, marker in ((sweep.forward, "-", "o"), (sweep.backward, "--", "s")):
                good = found.converged
                ax_d.plot(found.x, found.d, style, color=colour, lw=1.2, label=label if style == "-" else None)
                ax_d.plot(found.x[~good], found.d[~good], "x", color=colour, ms=3)
                ax_s.plot(found.d[good], found.s[good], marker, color=colour, ms=1.5 if style == "-" else 2.5,
                          mfc="none" if style == "--" else colour, label=label if style == "-" else None)
        ax_s.plot(grid, distance_bound(grid), "k:", lw=1, label="bound")
        ax_d.set(xlabel="coupling field x", ylabel="distance d", title=f"{title}: d(x), → solid, ← dashed")
        ax_s.set(xlabel="distance d", ylabel="entropy s per weight", title=f"{title}: s(d), → ●, ← ○")
        ax_d.legend()
        ax_s.legend(markerscale=3)
    return fig


def iso_energy_figure(curves, title: str):
    """Fig. 7: the iso-energy entropy curve beside the free landscape (``curves``: label -> Landscape), s against
    d, and the energy e (without the coupling term) against d, and β against x for the iso-energy curves."""
    fig, (ax_s, ax_e, ax_b) = panels(3, width=3.2, height=2.9)
    for label, found in curves.items():
        good = found.converged
        ax_s.plot(found.d[good], found.s[good], ".-", ms=3, lw=1, label=label)
        ax_e.plot(found.d[good], found.energy_uncoupled[good], ".-", ms=3, lw=1, label=label)
        if not np.all(found.beta == 1):
            ax_b.plot(found.x[good], found.beta[good], ".-", ms=3, lw=1, label=label)
    ax_s.set(xlabel="distance d", ylabel="entropy s per weight", title=f"Fig. 7, {title}")
    ax_e.set(xlabel="distance d", ylabel="energy e per weight", title="energy along the curves")
    ax_b.set(xlabel="coupling field x", ylabel="β", title="β holding e = E(σ*)/N")
    ax_s.legend()
    ax_b.legend()
    return fig


def tap_free_energy_figure(free_energies):
    """Fig. 8: histograms of the TAP free energies per weight of the converged fixed points (``free_energies``:
    label -> array), one panel per label."""
    fig, axes = panels(len(free_energies), width=2.8, height=2.6)
    for ax, (label, values) in zip(axes, free_energies.items()):
        pad = max(1e-4, 0.05 * np.ptp(values))  # a single state is one bar, not an error
        ax.hist(values, bins=30, range=(values.min() - pad, values.max() + pad), color="tab:blue")
        ax.set(xlabel="TAP free energy per weight", ylabel="fixed points", title=f"Fig. 8: {label}")
        ax.ticklabel_format(axis="x", useOffset=False)
    return fig


def dynamics_figure(runs, chance: float):
    """Fig. 9: Metropolis dynamics from a reference (``runs``: label -> :class:`adaptsym.landscape.Dynamics`): the
    energy per weight and the test accuracy of the recorded configurations (chance level dashed) against sweeps."""
    fig, (ax_e, ax_a) = panels(2, width=3.8, height=2.9)
    for label, run in runs.items():
        ax_e.plot(run.sweeps, run.energy, lw=1, label=label)
        if not np.isnan(run.observed).all():
            ax_a.plot(run.sweeps, run.observed, lw=1, label=label)
    ax_a.axhline(chance, color="k", ls="--", lw=0.8, label="chance")
    ax_e.set(xlabel="Monte Carlo sweeps", ylabel="energy per weight", title="Fig. 9: energy")
    ax_a.set(xlabel="Monte Carlo sweeps", ylabel="test accuracy", title="Fig. 9: test accuracy")
    ax_e.legend()
    ax_a.legend()
    return fig
