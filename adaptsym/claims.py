"""The claims ledger: every quantitative claim a chapter checks, with the paper's value and ours.

A chapter creates one :class:`Ledger` and calls :meth:`Ledger.record` for each claim.  The ledger is written
to a JSON file after every record (atomically), so a chapter that fails half-way still leaves the claims it
had checked.  The book's claims page is generated from all chapters' JSON files by :func:`claims_markdown`.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable

from .storage import atomic_write_json, to_builtin
from .tables import markdown_rows

VERDICTS = ("agrees", "disagrees", "inconclusive")


@dataclass(frozen=True)
class Claim:
    """One checked claim: what the paper says, what we measured, and whether they agree."""

    chapter: str
    name: str
    paper: str
    measured: Any
    verdict: str
    profile: str
    dataset: str
    detail: str = ""


class Ledger:
    """The claims of one chapter run under one profile, saved to ``path`` (if given) after each record."""

    def __init__(self, chapter: str, profile: str, dataset: str = "none", path: str | Path | None = None):
        self.chapter, self.profile, self.dataset = chapter, profile, dataset
        self.path = Path(path) if path else None
        self.claims: list[Claim] = []

    def record(self, name: str, paper: str, measured: Any, agrees: bool | None, detail: str = "",
               dataset: str | None = None) -> None:
        """Record a claim; ``agrees=None`` marks it inconclusive at this scale.  Prints one line."""
        verdict = "inconclusive" if agrees is None else ("agrees" if agrees else "disagrees")
        claim = Claim(self.chapter, name, paper, to_builtin(measured), verdict, self.profile,
                      dataset or self.dataset, detail)
        self.claims = [c for c in self.claims if c.name != name] + [claim]
        if self.path:
            atomic_write_json(self.path, [asdict(c) for c in self.claims])
        print(f"[claim] {name}: measured {format_value(claim.measured)} | paper: {paper} -> {verdict}")

    def table(self):
        """This chapter's claims as a table to display: claim, paper, measured (with its criterion), verdict."""
        from IPython.display import Markdown

        return Markdown("\n".join(markdown_rows(["claim", "paper", "measured", "verdict"], [
            [c.name, c.paper, format_value(c.measured) + (f" ({c.detail})" if c.detail else ""), f"**{c.verdict}**"]
            for c in self.claims])))


def format_value(value: Any) -> str:
    """A short, human rendering of a measured value (numbers to 4 significant digits)."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value) and value != 0 and not 1e-3 <= abs(value) < 1e5:
            return f"{value:.3e}"
        return f"{value:.4g}"
    if isinstance(value, list):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    return str(value)


def load_claims(paths: Iterable[str | Path]) -> list[dict]:
    """Read the claims of several chapter runs; a missing file is skipped (that chapter recorded none)."""
    records: list[dict] = []
    for path in paths:
        path = Path(path)
        if path.exists():
            records.extend(json.loads(path.read_text()))
    return records


def claims_markdown(records: list[dict]) -> str:
    """The claims page: a verdict count, then per chapter its profile, its data sets and a table of claims.

    Data sets are listed once per chapter and referred to in the table by a short label (D1, D2, ...).
    """
    if not records:
        return "No chapter has recorded a claim yet.\n"
    counts = {v: sum(r["verdict"] == v for r in records) for v in VERDICTS}
    lines = [", ".join(f"{n} {v}" for v, n in counts.items()) + f" (of {len(records)} claims)."]
    for chapter in dict.fromkeys(r["chapter"] for r in records):
        rows = [r for r in records if r["chapter"] == chapter]
        datasets = list(dict.fromkeys(r["dataset"] for r in rows))
        labels = {d: f"D{k}" for k, d in enumerate(datasets, start=1)}
        profiles = ", ".join(dict.fromkeys(r["profile"] for r in rows))
        lines += ["", f"## Chapter {chapter}", "", f"Profile: `{profiles}`.  Data: "
                  + "; ".join(f"{labels[d]} = {d}" for d in datasets) + ".", ""]
        lines += markdown_rows(["claim", "paper", "measured", "verdict", "data"], [
            [r["name"], r["paper"], format_value(r["measured"]) + (f" ({r['detail']})" if r.get("detail") else ""),
             f"**{r['verdict']}**", labels[r["dataset"]]] for r in rows])
    return "\n".join(lines) + "\n"
