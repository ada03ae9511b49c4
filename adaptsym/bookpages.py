"""The book's pages, made from the executed chapters: what a reader sees first is the argument, not the code.

:func:`write_pages` turns each executed notebook in ``build/chapters`` into the page the book renders
(``build/pages``): code folded (``hide-input``) except in cells tagged ``show-input``; the ``parameters`` and
papermill's injected cells removed from the page (their values go to the provenance block); every heading given a
label, so that claims and the figure map link to sections; stderr (warnings) and the ``[claim]`` lines taken out of
the outputs; absolute paths of the build machine and numpy scalar reprs scrubbed; figures given alt text and their
physical size (so that a 10 pt label renders at 10 pt); the chapter's claims table (:func:`adaptsym.claims.
chapter_claims_markdown`) and a collapsed provenance block appended.  It also writes the generated pages (claims,
execution report, figure map, chapter list) and the table of contents, whose chapters come from
:data:`adaptsym.profiles.CHAPTERS`.
"""

from __future__ import annotations

import json
import re
import struct
import sys
import tempfile
from base64 import b64decode
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import nbformat
import yaml

from .book import build_dir, load_run_record
from .claims import (CLAIM_LINE, TABLE_METADATA, VERDICTS, chapter_claims_markdown, claims_markdown, load_claims,
                     markdown_text)
from .profiles import CHAPTERS, PROFILES, REPO_ROOT, Chapter
from .storage import atomic_write_bytes, cache_root
from .tables import markdown_rows

PAGES = "pages"
"""Folder under ``build/`` of the rendered chapters and generated pages (the HTML is at ``build/pages/*.html``)."""
CHAPTERS_CAPTION = "Chapters"
"""Caption of the part of ``_toc.yml`` that the build fills with :data:`adaptsym.profiles.CHAPTERS`."""
PART_OF = {"landscape": "ising"}
"""Chapters shown as a further part of another chapter (slug -> slug of the chapter they continue)."""
PARAMETER_TAGS = ("parameters", "injected-parameters")
INPUT_TAGS = ("hide-input", "remove-input", "hide-cell", "remove-cell", "show-input")
"""Tags that decide a code cell's input themselves; every other code cell gets ``hide-input``."""
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
CSS_PX_PER_INCH = 96
PAPERS = {"li": "Li, *Complexity from Adaptive-Symmetries Breaking* {cite}`li2022complexity`",
          "zh": "Zou & Huang, *Data-driven effective model shows a liquid-like deep learning* {cite}`zou2021liquid`"}
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_SECTION_NUMBER = re.compile(r"^(\d+(?:\.\d+)+)\.?\s")
_NUMPY_SCALAR = re.compile(r"np\.(?:float|int|uint|complex|bool_|str_)\w*\(([^()]*)\)")
_SITE_PACKAGES = re.compile(r"(?:/[^\s'\"():]*)?/(?:site|dist)-packages/")


@dataclass
class ChapterPage:
    """A chapter's page and what the other pages need from it."""

    chapter: Chapter
    notebook: Any
    record: dict | None
    claims: list[dict]
    sections: dict[str, str] = field(default_factory=dict)
    """Section number ("7.4"; "" for the chapter's title; the heading's text where it has no number) -> label, in
    the order of the headings."""
    claim_sections: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    """(chapter, claim name) -> (label, link text) of the section whose cell recorded it."""
    figures: list[tuple[str, str, str]] = field(default_factory=list)
    """(figure name, caption, label of its section) for each captioned figure."""
    warnings: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return self.record is not None and self.record["status"] == "failed"


def write_pages(book_root: Path, chapters: tuple[Chapter, ...] = CHAPTERS) -> list[ChapterPage]:
    """Write the book's pages under ``build/pages`` of ``book_root`` and its table of contents ``build/_toc.yml``,
    from the executed chapters in ``build/chapters``; returns the chapters' pages (a chapter never executed has
    none, and is listed as not run on the execution report)."""
    build = build_dir(book_root)
    pages_dir = build / PAGES
    scrub = path_scrubber(book_root)
    pages = []
    for ch in chapters:
        executed = build / "chapters" / f"{ch.stem}.ipynb"
        if not executed.exists():
            continue
        claims = load_claims([executed.with_name(f"{ch.stem}.claims.json")])
        page = chapter_page(nbformat.read(executed, as_version=4), ch, load_run_record(executed), claims, scrub)
        atomic_write_bytes(pages_dir / f"{ch.stem}.ipynb", nbformat.writes(page.notebook).encode())
        pages.append(page)
    links = {key: label for page in pages for key, label in page.claim_sections.items()}
    records = [c for page in pages for c in page.claims]
    generated = {
        "claims_table.md": claims_markdown(records, chapter_titles(pages), links),
        "execution.md": execution_report(pages, chapters, build),
        "chapters.md": chapter_list(pages, build),
        "figure_map.md": figure_map(yaml.safe_load((Path(book_root) / "book" / "figure_map.yml").read_text()), pages),
        "citation.md": citation(book_config(book_root)),
    }
    for name, text in generated.items():
        atomic_write_bytes(pages_dir / name, text.encode())
    toc = book_toc(yaml.safe_load((Path(book_root) / "_toc.yml").read_text()), [p.chapter for p in pages])
    atomic_write_bytes(build / "_toc.yml", yaml.safe_dump(toc, sort_keys=False).encode())
    return pages


def page_docname(ch: Chapter) -> str:
    """The Sphinx document name of a chapter's page."""
    return f"build/{PAGES}/{ch.stem}"


def chapter_page(notebook, ch: Chapter, record: dict | None, claims: list[dict],
                 scrub: Callable[[str], str]) -> ChapterPage:
    """The rendered page of an executed chapter (see the module docstring); ``notebook`` is modified in place."""
    page = ChapterPage(ch, notebook, record, claims)
    names = sorted({c["name"] for c in claims}, key=len, reverse=True)
    section, table_after = chapter_label(ch), None
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "markdown":
            cell.source, section = label_headings(cell.source, ch, page.sections, section)
        elif cell.cell_type == "code":
            tag_code_cell(cell)
            cell.source = scrub(cell.source)
            outputs = []
            for output in cell.get("outputs", []):
                if output.get("metadata", {}).get("text/markdown") == TABLE_METADATA:
                    table_after = index
                    continue
                kept = clean_output(output, names, section, page, scrub)
                if kept is not None:
                    outputs.append(kept)
            cell.outputs = outputs
            describe_figure(cell, ch, section, page)
    chapter_key = claims[0]["chapter"] if claims else ""
    table = chapter_claims_markdown(claims, {k: v for k, v in page.claim_sections.items() if k[0] == chapter_key})
    cells = nbformat.v4.new_markdown_cell
    if table_after is None:
        notebook.cells.append(cells(f"({chapter_label(ch)}-claims)=\n## Claims checked in this chapter\n\n{table}"))
    else:
        notebook.cells.insert(table_after + 1, cells(f"({chapter_label(ch)}-claims)=\n{table}"))
    notebook.cells.append(cells(provenance_markdown(record, claims, scrub)))
    if page.failed:
        notebook.cells.insert(1 if notebook.cells and notebook.cells[0].cell_type == "markdown" else 0, cells(
            f":::{{error}}\nThis chapter failed under profile `{record['profile']}`: "
            f"{markdown_text(scrub(record['error'] or ''))}.  What follows is the partly executed notebook; "
            "see the {doc}`execution report </book/execution>`.\n:::"))
    return page


def chapter_label(ch: Chapter) -> str:
    """The label of a chapter's title (``chapter-ising``)."""
    return f"chapter-{ch.slug}"


def section_label(ch: Chapter, heading: str) -> str:
    """The label of a heading: from its number (``sec-ising-7-4``), else from its words (``sec-ising-two-polarities``)."""
    number = _SECTION_NUMBER.match(heading)
    key = number.group(1).replace(".", "-") if number else re.sub(r"[^a-z0-9]+", "-", heading.lower()).strip("-")
    return f"sec-{ch.slug}-{key[:60].strip('-')}"


def section_mark(label: str, page: ChapterPage) -> str:
    """How a link to a section reads in a table: its number (``§7.4``); for an unnumbered subsection the number of
    the section it lies in (``page.sections`` is in the order of the headings); ``§`` where there is none."""
    keys = list(page.sections)
    here = list(page.sections.values()).index(label) if label in page.sections.values() else -1
    number = next((key for key in reversed(keys[:here + 1]) if _SECTION_NUMBER.match(key + " ")), None)
    return f"§{number}" if number else "§"


def label_headings(source: str, ch: Chapter, sections: dict[str, str], section: str) -> tuple[str, str]:
    """``source`` with a MyST label line before each heading (the chapter's title gets :func:`chapter_label`), and
    the label of the last heading (or ``section`` if there is none).  Records numbered sections in ``sections``."""
    lines, fenced = [], False
    for line in source.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        heading = None if fenced else _HEADING.match(line)
        if heading:
            text = heading.group(2)
            if len(heading.group(1)) == 1 and "" not in sections:
                label = chapter_label(ch)
                sections[""] = label
            else:
                label = section_label(ch, text)
                while label in sections.values():
                    label += "-x"
                number = _SECTION_NUMBER.match(text)
                sections[number.group(1) if number else text] = label
            if lines and lines[-1].strip():
                lines.append("")
            lines += [f"({label})=", line]
            section = label
        else:
            lines.append(line)
    return "\n".join(lines), section


def tag_code_cell(cell) -> None:
    """Fold a code cell's input (``hide-input``) unless a tag decides otherwise; remove the parameters cells from
    the page (they stay in the downloadable notebook; their values are in the provenance block)."""
    tags = list(cell.metadata.get("tags", []))
    if any(tag in tags for tag in PARAMETER_TAGS):
        tags.append("remove-cell")
    elif not any(tag in tags for tag in INPUT_TAGS):
        tags.append("hide-input")
    cell.metadata["tags"] = tags


def clean_output(output, claim_names: list[str], section: str, page: ChapterPage, scrub: Callable[[str], str]):
    """The output as the page shows it, or None to drop it: stderr goes to ``page.warnings``, ``[claim]`` lines are
    dropped (their section recorded in ``page.claim_sections``), widgets (progress bars) are dropped, text is
    scrubbed, images get their physical width."""
    kind = output.get("output_type")
    if kind == "stream":
        if output.get("name") == "stderr":
            page.warnings += [scrub(line) for line in output["text"].splitlines() if _is_warning_line(line)]
            return None
        lines = []
        for line in output["text"].split("\n"):
            line = line.rsplit("\r", 1)[-1]  # a line overwritten in place (a progress bar) shows its last state
            name = next((n for n in claim_names if line.startswith(f"{CLAIM_LINE}{n}:")), None)
            if name is not None:
                page.claim_sections[(page.claims[0]["chapter"], name)] = (section, section_mark(section, page))
            else:
                lines.append(line)
        text = scrub("\n".join(lines))
        if not text.strip():
            return None
        output["text"] = text
        return output
    if kind in ("display_data", "execute_result"):
        data = output.get("data", {})
        if WIDGET_MIME in data:
            return None
        for mime in ("text/plain", "text/markdown", "text/html"):
            if mime in data:
                data[mime] = scrub(data[mime] if isinstance(data[mime], str) else "".join(data[mime]))
        if "image/png" in data:
            width = png_css_width(b64decode(data["image/png"]))
            if width:
                output.setdefault("metadata", {}).setdefault("image/png", {})["width"] = width
        return output
    if kind == "error":
        output["traceback"] = [scrub(line) for line in output.get("traceback", [])]
        output["evalue"] = scrub(output.get("evalue", ""))
    return output


def _is_warning_line(line: str) -> bool:
    """A line of stderr worth listing: a warning's message (not the source line that ``warnings`` echoes)."""
    return bool(line.strip()) and not line.startswith((" ", "\t"))


def describe_figure(cell, ch: Chapter, section: str, page: ChapterPage) -> None:
    """Give a figure cell (jupytext metadata ``mystnb.figure`` with a caption) a name if it lacks one, alt text
    from its caption, and record it for the figure map; other images get alt text naming the chapter."""
    if not any("image/png" in o.get("data", {}) for o in cell.get("outputs", [])):
        return
    mystnb = cell.metadata.setdefault("mystnb", {})
    figure = mystnb.get("figure") or {}
    caption = str(figure.get("caption", "")).strip()
    if caption:
        figure.setdefault("name", f"fig-{ch.slug}-{len(page.figures) + 1}")
        page.figures.append((figure["name"], caption, section))
    alt = plain_text(caption) if caption else f"A figure of chapter {ch.number}, {ch.title} (uncaptioned)"
    mystnb.setdefault("image", {}).setdefault("alt", alt)


def plain_text(markdown: str) -> str:
    """Markdown reduced to its words, for alt text: roles and math markers out, their content kept."""
    text = re.sub(r"\{[a-z:]+\}`([^`<]*)(?:<[^>]*>)?`", r"\1", markdown)
    return re.sub(r"[$*`\\]", "", text).strip()


def png_css_width(png: bytes) -> float | None:
    """The CSS width (px at 96 per inch) at which a PNG shows its physical size, from its ``pHYs`` resolution; None
    if it records none."""
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    position, width = 8, None
    while position + 8 <= len(png):
        length, kind = struct.unpack(">I4s", png[position:position + 8])
        chunk = png[position + 8:position + 8 + length]
        if kind == b"IHDR":
            width = struct.unpack(">I", chunk[:4])[0]
        elif kind == b"pHYs" and width:
            per_unit, _, unit = struct.unpack(">IIB", chunk[:9])
            if unit == 1 and per_unit:  # pixels per metre
                return round(width * CSS_PX_PER_INCH / (per_unit * 0.0254), 1)
        elif kind == b"IDAT":
            return None
        position += 12 + length
    return None


def path_scrubber(book_root: Path) -> Callable[[str], str]:
    """A function that rewrites text as a page may show it: paths in this checkout or book relative, the cache as
    ``$ADAPTSYM_CACHE``, installed packages from their package folder, the home folder as ``~``, temporary folders
    as ``<tmp>``; numpy scalar reprs (``np.float64(0.1)``) as their numbers."""
    prefixes = {str(Path(tempfile.gettempdir()).resolve()): "<tmp>", sys.prefix: "<python>", str(Path.home()): "~"}
    cache = cache_root("x").parent
    if not cache.is_relative_to(REPO_ROOT):  # a cache in the checkout reads best as build/cache
        prefixes[str(cache)] = "$ADAPTSYM_CACHE"
    prefixes.update({str(Path(book_root).resolve()): "", str(REPO_ROOT): ""})
    ordered = sorted(prefixes.items(), key=lambda item: len(item[0]), reverse=True)

    def scrub(text: str) -> str:
        text = _SITE_PACKAGES.sub("", text)
        for prefix, replacement in ordered:
            text = text.replace(prefix + "/", f"{replacement}/" if replacement else "").replace(prefix, replacement or ".")
        return _NUMPY_SCALAR.sub(r"\1", text)
    return scrub


def provenance_markdown(record: dict | None, claims: list[dict], scrub: Callable[[str], str]) -> str:
    """The collapsed block that ends a chapter: profile, parameters, data sets, device, versions, wall time, date,
    commit of the run that made the page."""
    if record is None:
        return ":::{admonition} Provenance\n:class: dropdown\nThis notebook has no run record.\n:::"
    datasets = list(dict.fromkeys([*(c["dataset"] for c in claims if c.get("dataset") != "none"),
                                   *([record["parameters"]["dataset"]] if "dataset" in record["parameters"] else [])]))
    about = [["profile", f"`{record['profile']}`" + (f", overrides {_value(record['overrides'])}"
                                                     if record.get("overrides") else "")],
             ["outcome", record["status"] + (f" ({markdown_text(scrub(record['error']))})" if record["error"] else "")],
             ["wall time", f"{record['seconds']:.0f} s"], ["started", record["started"].replace("T", " ")],
             ["commit", record["commit"]], ["device", markdown_text(record["device"])],
             ["data", "; ".join(markdown_text(d) for d in datasets) or "none"],
             ["Python", record["python"]],
             ["packages", ", ".join(f"{name} {version}" for name, version in record["versions"].items())]]
    parameters = [[f"`{name}`", _value(value)] for name, value in record["parameters"].items()]
    return "\n".join([":::{admonition} Provenance: how this page was computed", ":class: dropdown", "",
                      *markdown_rows(["", "this run"], about), "",
                      f"Parameters (profile `{record['profile']}`; the notebook's `parameters` cell holds the "
                      "`quick` values):", "", *markdown_rows(["parameter", "value"], parameters), ":::"])


def _value(value: Any) -> str:
    """A parameter value as compact JSON, escaped for a table cell."""
    return markdown_text(json.dumps(value, separators=(", ", ": ")))


def chapter_titles(pages: Iterable[ChapterPage]) -> dict[str, str]:
    """Heading of each chapter on the claims page (keyed by the claims' chapter field), linked to the chapter."""
    return {page.claims[0]["chapter"]: f"{{doc}}`{page.chapter.number}. {page.chapter.title} </{page_docname(page.chapter)}>`"
            for page in pages if page.claims}


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def execution_report(pages: list[ChapterPage], chapters: tuple[Chapter, ...], build: Path) -> str:
    """The execution report: per chapter its outcome, profile, wall time, date, device and commit; the failed
    chapters with their errors, the chapters never run, the warnings each run printed and the package versions."""
    by_slug = {page.chapter.slug: page for page in pages}
    rows = []
    for ch in chapters:
        page = by_slug.get(ch.slug)
        record = page.record if page else None
        link = f"{{doc}}`{ch.number}. {ch.title} </{page_docname(ch)}>`" if page else f"{ch.number}. {ch.title}"
        if record is None:
            rows.append([link, "not run" if page is None else "no run record", "", "", "", "", ""])
        else:
            status = "ok" if record["status"] == "ok" else "**FAILED**"
            rows.append([link, status, f"`{record['profile']}`", _duration(record["seconds"]),
                         record["started"][:16].replace("T", " "), markdown_text(record["device"]), record["commit"]])
    lines = markdown_rows(["chapter", "outcome", "profile", "wall time", "started (UTC)", "device", "commit"], rows)
    failed = [p for p in pages if p.failed]
    not_run = [ch for ch in chapters if ch.slug not in by_slug]
    lines += ["", "## Failures", ""]
    lines += [f"- Chapter {p.chapter.number} ({p.chapter.slug}): {markdown_text(p.record['error'])}" for p in failed] \
        or ["No chapter failed."]
    if not_run:
        lines += ["", "Not run in this build (no executed notebook in `build/chapters`): "
                  + ", ".join(f"{ch.number} ({ch.slug})" for ch in not_run) + "."]
    lines += ["", "## Warnings", "", "What the chapters printed to stderr (not shown on their pages):", ""]
    warned = [(p, dict.fromkeys(p.warnings)) for p in pages if p.warnings]
    lines += [f"- Chapter {p.chapter.number} ({p.chapter.slug}): " + "; ".join(
        f"`{w.replace('`', chr(39))}`" for w in warnings) for p, warnings in warned] or ["None."]
    record = next((p.record for p in pages if p.record), None)
    if record:
        lines += ["", "## Packages", "", f"Python {record['python']}.", "",
                  *markdown_rows(["package", "version"], list(record["versions"].items()))]
    return "\n".join(lines) + "\n"


def chapter_list(pages: list[ChapterPage], build: Path) -> str:
    """The introduction's table of chapters: link, claims per verdict, and the wall time measured for each
    profile (from ``build/timings.json``: the latest successful run of that profile on this book's machine)."""
    path = build / "timings.json"
    timings = json.loads(path.read_text()) if path.exists() else {}
    rows = []
    for page in pages:
        ch = page.chapter
        counts = ", ".join(f"{sum(c['verdict'] == v for c in page.claims)} {v}" for v in VERDICTS)
        measured = timings.get(ch.slug, {})
        rows.append([f"{{doc}}`{ch.number}. {ch.title} </{page_docname(ch)}>`", f"{len(page.claims)}: {counts}",
                     *(_duration(measured[p]["seconds"]) if p in measured else "not measured" for p in PROFILES)])
    return "\n".join(markdown_rows(["chapter", "claims (this build)", *(f"`{p}`" for p in PROFILES)], rows)) + "\n"


def figure_map(entries: list[dict], pages: list[ChapterPage]) -> str:
    """Every figure of both papers -> the section that reproduces it (linked, with the numbers of our figures whose
    caption cites it) or why it is not reproduced.  A section named in ``book/figure_map.yml`` that its chapter
    (present in this build) lacks is an error: the map must follow the chapters' headings."""
    by_slug = {page.chapter.slug: page for page in pages}
    lines = []
    for paper, title in PAPERS.items():
        rows = []
        for entry in (e for e in entries if e["paper"] == paper):
            rows.append([f"Fig. {entry['figure']}", markdown_text(entry["shows"]), _reproduced(entry, by_slug)])
        lines += [f"## {title}", "", *markdown_rows(["paper", "what it shows", "in this book"], rows), ""]
    return "\n".join(lines)


def _reproduced(entry: dict, by_slug: dict[str, ChapterPage]) -> str:
    """The figure map's last cell for one paper figure."""
    if "not_reproduced" in entry:
        return "not reproduced: " + markdown_text(entry["not_reproduced"])
    page = by_slug.get(entry["chapter"])
    if page is None:
        return f"the {entry['chapter']} chapter (not in this build)"
    if "section" not in entry:
        return f"{{doc}}`{page.chapter.number}. {page.chapter.title} </{page_docname(page.chapter)}>`"
    label = page.sections.get(str(entry["section"]))
    if label is None:
        raise ValueError(f"book/figure_map.yml maps Fig. {entry['figure']} ({entry['paper']}) to section "
                         f"{entry['section']}, which chapter {page.chapter.slug} does not have; its sections: "
                         f"{', '.join(k for k in page.sections if k)}")
    cited = re.compile(rf"Figs?\.\s*{re.escape(str(entry['figure']).rstrip('abcdef'))}(?![0-9])")
    ours = [f"{{numref}}`{name}`" for name, caption, section in page.figures
            if section == label and cited.search(caption)]
    return f"{{ref}}`§{entry['section']} <{label}>`" + (f" ({', '.join(ours)})" if ours else "")


def book_config(book_root: Path) -> dict:
    return yaml.safe_load((Path(book_root) / "_config.yml").read_text())


def repository_url(config: dict) -> str:
    """The repository's URL: ``repository.url`` of ``_config.yml``, the one place it is configured."""
    return str(config["repository"]["url"]).rstrip("/")


def pages_url(config: dict) -> str:
    """Where GitHub Pages serves the book of the repository: ``https://OWNER.github.io/NAME/``."""
    owner, name = repository_url(config).split("/")[-2:]
    return f"https://{owner.lower()}.github.io/{name}/"


def citation(config: dict) -> str:
    """How to cite the book (BibTeX), with the repository and the published book's address."""
    return "\n".join(["```bibtex", "@misc{adaptsym,", f"  title = {{{config['title']}}},",
                      f"  author = {{{config['author']}}},", f"  year = {{{config['copyright']}}},",
                      f"  howpublished = {{\\url{{{pages_url(config)}}}}},",
                      f"  note = {{Source: \\url{{{repository_url(config)}}}}}", "}", "```",
                      "", f"The book: <{pages_url(config)}>.  Its source: <{repository_url(config)}>.", ""])


def book_toc(template: dict, chapters: list[Chapter]) -> dict:
    """The table of contents: ``template`` (``_toc.yml``) with its part captioned :data:`CHAPTERS_CAPTION` filled
    with ``chapters`` in order, a chapter of :data:`PART_OF` nested under the chapter it continues."""
    entries: dict[str, dict] = {}
    for ch in chapters:
        entry = {"file": page_docname(ch)}
        parent = entries.get(PART_OF.get(ch.slug, ""))
        if parent is None:
            entries[ch.slug] = entry
        else:
            parent.setdefault("sections", []).append(entry)
    parts = [part for part in template.get("parts", []) if part.get("caption") == CHAPTERS_CAPTION]
    if len(parts) != 1:
        raise ValueError(f"_toc.yml needs exactly one part captioned {CHAPTERS_CAPTION!r} for the chapters; "
                         f"found {len(parts)}")
    parts[0]["chapters"] = list(entries.values())
    return template

