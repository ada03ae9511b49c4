"""The book's figure style: matplotlib, white background, readable at book width."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

STYLE = {
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
    "figure.dpi": 110,
    "font.size": 10,
    "axes.titlesize": 10,
    "axes.labelsize": 10,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "lines.linewidth": 1.6,
}


def use_book_style() -> None:
    """Apply the book's matplotlib settings (call once at the top of a chapter)."""
    plt.rcParams.update(STYLE)


def panels(n: int, width: float = 3.4, height: float = 2.8, **kwargs):
    """A row of ``n`` axes sized for the book's text column; returns (figure, list of axes)."""
    fig, axes = plt.subplots(1, n, figsize=(width * n, height), squeeze=False, constrained_layout=True, **kwargs)
    return fig, list(axes[0])


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
    fig.legend(loc="outside right upper", fontsize=7)
    return fig

def circuit_diagram(ax, weights: list, gates: list, path: tuple[int, ...], circuit_value: float,
                    output_value: float) -> None:
    """Li Fig. 2 for a small bias-free ReLU MLP: neurons, weights, one highlighted basis circuit, the assembly.

    ``weights[l]`` is layer l+1's matrix in PyTorch (out, in) order, ``gates[l]`` the 0/1 ReLU gates of hidden
    layer l+1, ``path = (i_0, ..., i_{L-1})`` the highlighted circuit (it ends at output 0).  Edge width
    follows |w| and colour its sign; closed gates are drawn hollow.
    """
    import numpy as np

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
        open_gate = [bool(g) for g in gates[layer - 1]] if is_hidden else [True] * n
        ax.scatter([layer] * n, ys[layer], s=140, zorder=3, edgecolors="black",
                   c=["black" if g else "white" for g in open_gate])
    ax.annotate(f"T(x) = Σ Ψ = {output_value:.3f}", (len(weights), 0), xytext=(8, 10),
                textcoords="offset points", fontsize=9)
    ax.set_title(f"highlighted basis circuit Ψ = {circuit_value:.3f}   (filled: open gate h = 1)")
    ax.set_xticks(range(len(widths)), ["input x"] + [f"layer {l}" for l in range(1, len(widths) - 1)] + ["output"])
    ax.set_yticks([])
    ax.grid(False)


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
        ax.text(grid[0], base + 0.15, label, fontsize=8)
    ax.axvline(0, color="black", lw=0.9)
    ax.set_facecolor("white")
    ax.set_yticks([])
    ax.grid(False)
