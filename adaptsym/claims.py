"""The claims ledger: every quantitative claim a chapter checks, with the paper's value and ours.

A chapter creates one :class:`Ledger` and calls :meth:`Ledger.record` for each claim.  Every claim has a *kind*:

* ``identity``: holds by construction (algebra, autograd); the check guards the code, it tests no physics;
* ``paper``: the paper asserts it; the paper column quotes or cites it (section, equation or figure);
* ``ours``: a quantity the book adds; the paper column says "not in the paper".

and a *criterion*, the test its value had to pass.  A verdict is "agrees" only if that test could have failed:
a criterion that any value would pass makes the claim inconclusive.  The ledger is written
to a JSON file after every record (atomically), so a chapter that fails half-way still leaves the claims it
had checked.  The book's claims page is generated from all chapters' JSON files by :func:`claims_markdown`, and the
table that ends each chapter by :func:`chapter_claims_markdown`.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

from .checks import check_choice
from .storage import atomic_write_json, to_builtin
from .tables import markdown_rows

VERDICTS = ("agrees", "disagrees", "inconclusive")
CLAIM_LINE = "[claim] "
"""The start of the line :meth:`Ledger.record` prints."""
TABLE_METADATA = {"adaptsym": {"claims_table": True}}
"""Output metadata of :meth:`Ledger.table`'s display."""
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
        inconclusive (at this scale, or because the criterion cannot fail).  Prints one short line, ``[claim] name:
        verdict``, by which the book build finds the section that decided the claim (the values are in the table)."""
        check_claim_kind(kind, paper, criterion)
        verdict = "inconclusive" if agrees is None else ("agrees" if agrees else "disagrees")
        claim = Claim(self.chapter, name, paper, to_builtin(measured), verdict, self.profile,
                      dataset or self.dataset, detail, kind, criterion)
        self.claims = [c for c in self.claims if c.name != name] + [claim]
        if self.path:
            atomic_write_json(self.path, [asdict(c) for c in self.claims])
        print(f"{CLAIM_LINE}{name}: {verdict}")

    def table(self):
        """This chapter's claims as a table to display: claim, kind, paper, ours (value, detail and criterion),
        verdict.  Its output is tagged (:data:`TABLE_METADATA`) so that the book build can put the linked table of
        :func:`chapter_claims_markdown` in its place."""
        from IPython.display import Markdown

        return Markdown(chapter_claims_markdown([asdict(c) for c in self.claims], container=False),
                        metadata=TABLE_METADATA)


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
TABLE_CLASS = "claims-table"
"""CSS class of the container around every claims table (the book's stylesheet wraps its cells)."""


def markdown_text(text: Any) -> str:
    """``text`` safe in a MyST table cell: ``|``, ``*`` and backticks escaped, and ``$`` too unless the text pairs
    them (then it is math)."""
    text = str(text).replace("\\", "\\\\").replace("|", "\\|").replace("*", "\\*").replace("`", "\\`")
    return text if text.count("$") % 2 == 0 else text.replace("$", "\\$")


def _claim_cell(record: dict, links: Mapping[tuple[str, str], tuple[str, str]] | None) -> str:
    """The claim's name, then a link to the section that decided it where ``links`` has one."""
    link = (links or {}).get((record["chapter"], record["name"]))
    name = markdown_text(record["name"])
    return name if link is None else f"{name} ({{ref}}`{link[1]} <{link[0]}>`)"


def _ours_cell(record: dict) -> str:
    """The measured value with its detail, then the test it had to pass."""
    value = format_value(record["measured"]) + (f" ({record['detail']})" if record.get("detail") else "")
    test = f"; test: {record['criterion']}" if record.get("criterion") else ""
    return markdown_text(value + test)


def _table(header: list[str], rows: list[list[str]], container: bool = True) -> list[str]:
    """A Markdown table of escaped cells, inside a MyST container of class :data:`TABLE_CLASS` if ``container``."""
    def line(cells):
        return "| " + " | ".join(cells) + " |"
    table = [line(header), line(["---"] * len(header)), *(line(row) for row in rows)]
    return [f":::{{container}} {TABLE_CLASS}", *table, ":::"] if container else table


def chapter_claims_markdown(records: list[dict], links: Mapping[tuple[str, str], tuple[str, str]] | None = None,
                            container: bool = True) -> str:
    """The table that ends a chapter: each claim (linked to the section that decided it, where ``links`` maps
    ``(chapter, name)`` to the section's label and the link's text), its kind, the paper's statement, ours (value and test) and the verdict; in the
    book's container (``container``) or plain, for Jupyter."""
    if not records:
        return "This chapter recorded no claim.\n"
    order = {kind: k for k, kind in enumerate(KIND_TITLES)}
    rows = sorted(records, key=lambda r: order.get(r.get("kind", ""), len(order)))
    return "\n".join(_table(["claim", "kind", "paper", "ours", "verdict"], [
        [_claim_cell(r, links), r.get("kind", ""), markdown_text(r["paper"]), _ours_cell(r), f"**{r['verdict']}**"]
        for r in rows], container)) + "\n"


def claims_markdown(records: list[dict], titles: Mapping[str, str] | None = None,
                    links: Mapping[tuple[str, str], tuple[str, str]] | None = None) -> str:
    """The claims page: a count of verdicts per kind, then per chapter its profile, its data sets and a table of
    claims for each kind (paper, ours, identity).

    ``titles`` maps a record's chapter (e.g. ``"7 ising"``) to the Markdown of its heading (by default the
    chapter itself); ``links`` maps ``(chapter, claim name)`` to the label of the section that decided it and the
    link's text.  Data
    sets are listed once per chapter and referred to in the tables by a short label (D1, D2, ...).
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
        lines += ["", f"## {(titles or {}).get(chapter, f'Chapter {chapter}')}", "", f"Profile: `{profiles}`.  Data: "
                  + "; ".join(f"{labels[d]} = {markdown_text(d)}" for d in datasets) + "."]
        for kind, title in KIND_TITLES.items():
            of_kind = [r for r in rows if r.get("kind", "") == kind]
            if of_kind:
                lines += ["", f"**{title}** ({len(of_kind)})", ""]
                lines += _table(["claim", "paper", "ours", "verdict", "data"], [
                    [_claim_cell(r, links), markdown_text(r["paper"]), _ours_cell(r), f"**{r['verdict']}**",
                     labels[r["dataset"]]] for r in of_kind])
    return "\n".join(lines) + "\n"
