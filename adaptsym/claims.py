"""The claims ledger: every quantitative claim a chapter checks, with the paper's value and ours.

A chapter creates one :class:`Ledger` and calls :meth:`Ledger.record` for each claim.  Every claim has a *kind*:

* ``identity``: holds by construction (algebra, autograd); the check guards the code, it tests no physics;
* ``paper``: the paper asserts it; the paper column quotes or cites it (section, equation or figure);
* ``ours``: a quantity the book adds; the paper column says "not in the paper".

and a *criterion*, the test its value had to pass.  A verdict is "agrees" only if that test could have failed:
a criterion that any value would pass makes the claim inconclusive.  The ledger is written
to a JSON file after every record (atomically), so a chapter that fails half-way still leaves the claims it
had checked.  The book's claims page is generated from all chapters' JSON files by :func:`claims_markdown`.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable

from .checks import check_choice
from .storage import atomic_write_json, to_builtin
from .tables import markdown_rows

VERDICTS = ("agrees", "disagrees", "inconclusive")
KINDS = ("identity", "paper", "ours")
NOT_IN_PAPER = "not in the paper"
_CITATION = re.compile(r"§|\b(eqs?|Figs?|App|Sec|Table|supp)\.|appendix|section", re.IGNORECASE)


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
    kind: str = ""
    criterion: str = ""


class Ledger:
    """The claims of one chapter run under one profile, saved to ``path`` (if given) after each record."""

    def __init__(self, chapter: str, profile: str, dataset: str = "none", path: str | Path | None = None):
        self.chapter, self.profile, self.dataset = chapter, profile, dataset
        self.path = Path(path) if path else None
        self.claims: list[Claim] = []

    def record(self, name: str, paper: str, measured: Any, agrees: bool | None, detail: str = "",
               dataset: str | None = None, *, kind: str, criterion: str) -> None:
        """Record a claim of ``kind`` (see the module docstring) judged by ``criterion``; ``agrees=None`` marks it
        inconclusive (at this scale, or because the criterion cannot fail).  Prints one line."""
        check_claim_kind(kind, paper, criterion)
        verdict = "inconclusive" if agrees is None else ("agrees" if agrees else "disagrees")
        claim = Claim(self.chapter, name, paper, to_builtin(measured), verdict, self.profile,
                      dataset or self.dataset, detail, kind, criterion)
        self.claims = [c for c in self.claims if c.name != name] + [claim]
        if self.path:
            atomic_write_json(self.path, [asdict(c) for c in self.claims])
        print(f"[claim] {name}: measured {format_value(claim.measured)} | paper: {paper} -> {verdict}")

    def table(self):
        """This chapter's claims as a table to display: claim, paper, measured (with its criterion), verdict."""
        from IPython.display import Markdown

        return Markdown("\n".join(markdown_rows(["claim", "kind", "paper", "measured", "criterion", "verdict"], [
            [c.name, c.kind, c.paper, format_value(c.measured) + (f" ({c.detail})" if c.detail else ""), c.criterion,
             f"**{c.verdict}**"] for c in self.claims])))


def check_claim_kind(kind: str, paper: str, criterion: str) -> None:
    """ValueError unless ``kind`` is one of :data:`KINDS`, the criterion is stated, a ``paper`` claim cites the
    paper (section, equation, figure, appendix or supplement) and an ``ours`` claim says it is not in the paper."""
    check_choice(kind, KINDS, "claim kind")
    if not criterion.strip():
        raise ValueError("a claim states its criterion: the test its measured value must pass")
    if kind == "paper" and not _CITATION.search(paper):
        raise ValueError(f"a 'paper' claim cites where the paper says it (§, eq., Fig., App., supp.); got {paper!r}")
    if kind == "ours" and NOT_IN_PAPER not in paper:
        raise ValueError(f"an 'ours' claim says {NOT_IN_PAPER!r} in its paper column; got {paper!r}")


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


KIND_TITLES = {"paper": "What the paper asserts", "ours": "What the book adds (not in the paper)",
               "identity": "Identities (hold by construction; the checks guard the code)"}


def claims_markdown(records: list[dict]) -> str:
    """The claims page: a count of verdicts per kind, then per chapter its profile, its data sets and a table of
    claims for each kind (paper, ours, identity).

    Data sets are listed once per chapter and referred to in the tables by a short label (D1, D2, ...).
    """
    if not records:
        return "No chapter has recorded a claim yet.\n"
    lines = [f"{len(records)} claims.  Only a claim of kind *paper* tests the papers; *identity* claims hold by "
             "construction and cannot disagree with the papers.", ""]
    lines += markdown_rows(["kind", *VERDICTS, "all"], [
        [kind, *(sum(r["verdict"] == v and r.get("kind", "") == kind for r in records) for v in VERDICTS),
         sum(r.get("kind", "") == kind for r in records)] for kind in KIND_TITLES])
    for chapter in dict.fromkeys(r["chapter"] for r in records):
        rows = [r for r in records if r["chapter"] == chapter]
        datasets = list(dict.fromkeys(r["dataset"] for r in rows))
        labels = {d: f"D{k}" for k, d in enumerate(datasets, start=1)}
        profiles = ", ".join(dict.fromkeys(r["profile"] for r in rows))
        lines += ["", f"## Chapter {chapter}", "", f"Profile: `{profiles}`.  Data: "
                  + "; ".join(f"{labels[d]} = {d}" for d in datasets) + "."]
        for kind, title in KIND_TITLES.items():
            of_kind = [r for r in rows if r.get("kind", "") == kind]
            if of_kind:
                lines += ["", f"**{title}** ({len(of_kind)})", ""]
                lines += markdown_rows(["claim", "paper", "measured", "criterion", "verdict", "data"], [
                    [r["name"], r["paper"],
                     format_value(r["measured"]) + (f" ({r['detail']})" if r.get("detail") else ""),
                     r.get("criterion", ""), f"**{r['verdict']}**", labels[r["dataset"]]] for r in of_kind])
    return "\n".join(lines) + "\n"
