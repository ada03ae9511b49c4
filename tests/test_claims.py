"""The claims ledger: records, kinds and criteria, verdicts, the saved JSON and the generated page."""

import json

import pytest

from adaptsym.claims import (TABLE_METADATA, Ledger, chapter_claims_markdown, check_claim_kind, claims_markdown,
                             format_value, load_claims, markdown_text)

IDENTITY = dict(kind="identity", criterion="error < 1e-12")


def test_ledger_saves_every_record_and_replaces_a_claim_of_the_same_name(tmp_path, capsys):
    path = tmp_path / "c.json"
    ledger = Ledger("1 umwelt", "smoke", dataset="digits", path=path)
    ledger.record("error", "exact", 1e-12, True, **IDENTITY)
    assert json.loads(path.read_text())[0]["verdict"] == "agrees"
    ledger.record("error", "exact", 0.5, False, detail="bad", **IDENTITY)
    ledger.record("size", "large (§II.3)", 3, None, kind="paper", criterion="size > 2")
    saved = json.loads(path.read_text())
    assert [(c["name"], c["verdict"], c["kind"]) for c in saved] == [("error", "disagrees", "identity"),
                                                                      ("size", "inconclusive", "paper")]
    assert saved[0]["profile"] == "smoke" and saved[0]["dataset"] == "digits"
    assert saved[1]["criterion"] == "size > 2"
    assert capsys.readouterr().out.splitlines()[-2:] == ["[claim] error: disagrees", "[claim] size: inconclusive"]


@pytest.mark.parametrize("kind, paper, criterion, message", [
    ("guess", "§II.1", "x < 1", "valid claim kinds: identity, paper, ours"),
    ("identity", "exact identity", " ", "states its criterion"),
    ("paper", "the paper says so", "x < 1", "cites where the paper says it"),
    ("ours", "§II.1", "x < 1", "not in the paper")])
def test_every_claim_has_a_kind_a_criterion_and_a_source(kind, paper, criterion, message):
    with pytest.raises(ValueError, match=message):
        check_claim_kind(kind, paper, criterion)
    with pytest.raises(ValueError, match=message):
        Ledger("1", "smoke").record("c", paper, 1.0, True, kind=kind, criterion=criterion)


@pytest.mark.parametrize("paper", ["symmetric (§II.4)", "eq. 19", "Fig. 7b", "App. G", "eqs. 10-11", "appendix B",
                                   "assumed (supp. B G 7)"])
def test_paper_claims_may_cite_a_section_an_equation_a_figure_or_an_appendix(paper):
    check_claim_kind("paper", paper, "x < 1")


def test_numpy_values_are_stored_as_plain_numbers(tmp_path):
    import numpy as np

    path = tmp_path / "c.json"
    Ledger("2", "quick", path=path).record("v", "p", np.float64(0.25), True, **IDENTITY)
    Ledger("3", "quick", path=tmp_path / "d.json").record("w", "p", np.array([1, 2]), True, **IDENTITY)
    records = load_claims([path, tmp_path / "d.json", tmp_path / "missing.json"])
    assert [r["measured"] for r in records] == [0.25, [1, 2]]


def test_markdown_page_counts_verdicts_per_kind_groups_by_chapter_and_kind_and_labels_data_sets():
    def record(chapter, name, measured, verdict, dataset, kind, detail=""):
        return dict(chapter=chapter, name=name, paper="p", measured=measured, verdict=verdict, profile="quick",
                    dataset=dataset, detail=detail, kind=kind, criterion="c")

    records = [record("1 a", "x|y", 1e-9, "agrees", "none", "identity"),
               record("1 a", "c", 2.0, "disagrees", "MNIST", "paper", "why"),
               record("2 b", "d", 3, "inconclusive", "MNIST", "ours")]
    text = claims_markdown(records)
    assert text.startswith("3 claims.")
    assert "| paper | 0 | 1 | 0 | 1 |" in text and "| identity | 1 | 0 | 0 | 1 |" in text
    assert "| ours | 0 | 0 | 1 | 1 |" in text
    assert "## Chapter 1 a" in text and "## Chapter 2 b" in text
    assert "Data: D1 = none; D2 = MNIST." in text
    first = text.index("## Chapter 1 a")
    assert text.index("**What the paper asserts** (1)", first) < text.index("**Identities", first)
    assert ":::{container} claims-table\n| claim | paper | ours | verdict | data |" in text
    assert "| x\\|y | p | 1.000e-09; test: c | **agrees** | D1 |" in text
    assert "| c | p | 2 (why); test: c | **disagrees** | D2 |" in text
    assert "| d | p | 3; test: c | **inconclusive** | D1 |" in text
    linked = claims_markdown(records, {"1 a": "{doc}`1. A </a>`"}, {("1 a", "c"): ("sec-a-1-2", "§1.2")})
    assert "## {doc}`1. A </a>`" in linked and "## Chapter 2 b" in linked
    assert "| c ({ref}`§1.2 <sec-a-1-2>`) | p |" in linked
    assert claims_markdown([]).startswith("No chapter")


def test_format_value():
    assert format_value(0.123456) == "0.1235"
    assert format_value(123456.0) == "1.235e+05"
    assert format_value([1, 0.5]) == "[1, 0.5]"
    assert format_value(None) == "None"


def test_a_chapter_ends_with_its_claims_by_kind_each_linked_to_its_section():
    records = [dict(chapter="1 a", name=name, paper="p", measured=1.0, verdict="agrees", profile="quick",
                    dataset="none", detail="", kind=kind, criterion="c") for name, kind in
               [("i", "identity"), ("o", "ours"), ("p", "paper")]]
    text = chapter_claims_markdown(records, {("1 a", "p"): ("sec-a-1-1", "§1.1")})
    assert text.splitlines() == [":::{container} claims-table", "| claim | kind | paper | ours | verdict |",
                                 "| --- | --- | --- | --- | --- |",
                                 "| p ({ref}`§1.1 <sec-a-1-1>`) | paper | p | 1; test: c | **agrees** |",
                                 "| o | ours | p | 1; test: c | **agrees** |",
                                 "| i | identity | p | 1; test: c | **agrees** |", ":::"]
    assert chapter_claims_markdown(records, container=False).startswith("| claim | kind |")


def test_the_ledger_table_is_tagged_for_the_book_build():
    from IPython.core.interactiveshell import InteractiveShell

    ledger = Ledger("1 a", "smoke")
    ledger.record("c", "§1", 0.5, True, kind="paper", criterion="x < 1")
    data, metadata = InteractiveShell.instance().display_formatter.format(ledger.table())
    assert data["text/markdown"].startswith("| claim | kind | paper | ours | verdict |")
    assert metadata["text/markdown"] == TABLE_METADATA


@pytest.mark.parametrize("text, cell", [("a|b", "a\\|b"), ("2*3", "2\\*3"), ("costs $5", "costs \\$5"),
                                        ("$x^2$ and $y$", "$x^2$ and $y$"), ("`f`", "\\`f\\`")])
def test_table_cells_escape_what_markdown_would_read(text, cell):
    assert markdown_text(text) == cell
