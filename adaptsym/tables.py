"""Tables a chapter shows: Markdown that Jupyter and the book render as HTML tables, never walls of text."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

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


def labelled_table(rows: Mapping[str, Sequence[Any]], columns: Sequence[str], corner: str = "",
                   fmt: str = "{:.3g}") -> Markdown:
    """A table of named rows of numbers: one row per key of ``rows`` (its name first), one column per label in
    ``columns``, every value written with ``fmt`` (e.g. a quantity per layer for each of several networks)."""
    for name, values in rows.items():
        if len(values) != len(columns):
            raise ValueError(f"row {name!r} has {len(values)} values for {len(columns)} columns {list(columns)}")
    return markdown_table([corner, *columns],
                          [[name, *(fmt.format(v) for v in values)] for name, values in rows.items()])
