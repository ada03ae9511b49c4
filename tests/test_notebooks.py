"""The chapters are narrative, calls and figures: every code cell is short, the logic lives in adaptsym/."""

import jupytext
import pytest

from adaptsym.profiles import CHAPTERS, REPO_ROOT

MAX_CODE_LINES = 15


def code_lines(source: str) -> int:
    """Lines of a cell that hold code: not blank, not only a comment."""
    return sum(1 for line in source.splitlines() if line.strip() and not line.strip().startswith("#"))


def test_code_lines_count_code_only():
    assert code_lines("# a comment\n\nx = 1  # trailing\n    y = [\n1]\n") == 3


@pytest.mark.parametrize("path", sorted((REPO_ROOT / "notebooks").glob("*.py")), ids=lambda p: p.name)
def test_every_code_cell_but_the_parameters_is_at_most_15_lines(path):
    """The ``parameters`` cell is exempt: it is papermill's interface, one assignment per parameter of the chapter
    (listed by ``adaptsym list``), with no logic."""
    notebook = jupytext.read(path)
    long = [(index, code_lines(cell.source)) for index, cell in enumerate(notebook.cells)
            if cell.cell_type == "code" and "parameters" not in cell.metadata.get("tags", [])
            and code_lines(cell.source) > MAX_CODE_LINES]
    assert long == [], f"{path.name}: cells (index, code lines) over {MAX_CODE_LINES} lines; move the logic to adaptsym/"


def test_every_chapter_source_is_checked():
    assert {REPO_ROOT / ch.source for ch in CHAPTERS} <= set((REPO_ROOT / "notebooks").glob("*.py"))


@pytest.mark.parametrize("path", sorted((REPO_ROOT / "notebooks").glob("*.py")), ids=lambda p: p.name)
def test_a_figure_cell_displays_nothing_but_its_figure(path):
    """myst-nb wraps every display output of a cell with ``mystnb.figure`` metadata in that figure, so a table
    displayed there would give the figure's name twice (a strict build fails): tables go in the next cell."""
    notebook = jupytext.read(path)
    mixed = [index for index, cell in enumerate(notebook.cells)
             if cell.cell_type == "code" and "figure" in cell.metadata.get("mystnb", {}) and "display(" in cell.source]
    assert mixed == [], f"{path.name}: figure cells {mixed} also display something"
