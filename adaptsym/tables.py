"""Tables a chapter shows: Markdown that Jupyter and the book render as HTML tables, never walls of text."""

from __future__ import annotations

from typing import Any, Sequence

from IPython.display import Markdown


def markdown_rows(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    """The lines of a Markdown table; cells are ``str()`` of the values with ``|`` escaped."""
    def line(cells):
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"
    return [line(header), line(["---"] * len(header))] + [line(row) for row in rows]


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> Markdown:
    """A table to ``display`` in a notebook (rendered as HTML in the book)."""
    return Markdown("\n".join(markdown_rows(header, rows)))


def plus_minus(value: float, error: float, digits: int = 3) -> str:
    """``value ± error`` to ``digits`` significant digits of the value."""
    return f"{value:.{digits}g} ± {error:.2g}"
