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


def test_markdown_table_counts_verdicts_and_escapes_pipes():
    records = [dict(chapter="1", name="a|b", paper="x", measured=1e-9, verdict="agrees", profile="quick",
                    dataset="d", detail=""),
               dict(chapter="1", name="c", paper="y", measured=2.0, verdict="disagrees", profile="quick",
                    dataset="d", detail="why")]
    text = claims_markdown(records)
    assert text.startswith("1 agrees, 1 disagrees, 0 inconclusive (of 2 claims).")
    assert "a\\|b" in text and "1.000e-09" in text and "2 (why)" in text
    assert claims_markdown([]).startswith("No chapter")


def test_format_value():
    assert format_value(0.123456) == "0.1235"
    assert format_value(123456.0) == "1.235e+05"
    assert format_value([1, 0.5]) == "[1, 0.5]"
    assert format_value(None) == "None"
