"""The book's figure style: matplotlib, white background, readable at book width."""

from __future__ import annotations

import matplotlib.pyplot as plt

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
