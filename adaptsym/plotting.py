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
