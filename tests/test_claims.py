"""The claims ledger: records, verdicts, the saved JSON and the generated page."""

import json

from adaptsym.claims import Ledger, claims_markdown, format_value, load_claims


def test_ledger_saves_every_record_and_replaces_a_claim_of_the_same_name(tmp_path, capsys):
    path = tmp_path / "c.json"
    ledger = Ledger("1 umwelt", "smoke", dataset="digits", path=path)
    ledger.record("error", "exact", 1e-12, True)
    assert json.loads(path.read_text())[0]["verdict"] == "agrees"
    ledger.record("error", "exact", 0.5, False, detail="bad")
    ledger.record("size", "large", 3, None)
    saved = json.loads(path.read_text())
    assert [(c["name"], c["verdict"]) for c in saved] == [("error", "disagrees"), ("size", "inconclusive")]
    assert saved[0]["profile"] == "smoke" and saved[0]["dataset"] == "digits"
    assert "[claim] error: measured 0.5 | paper: exact -> disagrees" in capsys.readouterr().out


def test_numpy_values_are_stored_as_plain_numbers(tmp_path):
    import numpy as np

    path = tmp_path / "c.json"
    Ledger("2", "quick", path=path).record("v", "p", np.float64(0.25), True)
    Ledger("3", "quick", path=tmp_path / "d.json").record("w", "p", np.array([1, 2]), True)
    records = load_claims([path, tmp_path / "d.json", tmp_path / "missing.json"])
    assert [r["measured"] for r in records] == [0.25, [1, 2]]


def test_markdown_page_counts_verdicts_groups_by_chapter_and_labels_data_sets():
    def record(chapter, name, measured, verdict, dataset, detail=""):
        return dict(chapter=chapter, name=name, paper="p", measured=measured, verdict=verdict, profile="quick",
                    dataset=dataset, detail=detail)

    records = [record("1 a", "x|y", 1e-9, "agrees", "none"), record("1 a", "c", 2.0, "disagrees", "MNIST", "why"),
               record("2 b", "d", 3, "inconclusive", "MNIST")]
    text = claims_markdown(records)
    assert text.startswith("1 agrees, 1 disagrees, 1 inconclusive (of 3 claims).")
    assert "## Chapter 1 a" in text and "## Chapter 2 b" in text
    assert "Data: D1 = none; D2 = MNIST." in text
    assert "| x\\|y | p | 1.000e-09 | **agrees** | D1 |" in text
    assert "| c | p | 2 (why) | **disagrees** | D2 |" in text
    assert "| d | p | 3 | **inconclusive** | D1 |" in text
    assert claims_markdown([]).startswith("No chapter")


def test_format_value():
    assert format_value(0.123456) == "0.1235"
    assert format_value(123456.0) == "1.235e+05"
    assert format_value([1, 0.5]) == "[1, 0.5]"
    assert format_value(None) == "None"
