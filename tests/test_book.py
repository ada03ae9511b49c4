"""Executing chapters with papermill, turning them into the book's pages, and building the book.

The tests marked slow read the smoke book that conftest's ``smoke_book`` fixture builds once per session (every
chapter executed under ``smoke``, warnings as errors); tests/test_browser.py opens the same book in a browser.
"""

import base64
import io
import json
from dataclasses import replace
from types import SimpleNamespace

import matplotlib
import nbformat
import pytest
import yaml

from adaptsym import book, bookpages
from adaptsym.claims import KINDS, TABLE_CLASS
from adaptsym.profiles import CHAPTERS, REPO_ROOT
from adaptsym.sphinx_book import SearchEnglishKeepingTerms, emit_scripts_once, number_figures_per_chapter

matplotlib.use("Agg")

MIN_DECIDED = 3
"""Every chapter's smoke run decides at least this many claims, so that the book test exercises each chapter's
verdicts and not only its plumbing."""
ISING = next(ch for ch in CHAPTERS if ch.slug == "ising")
LANDSCAPE = replace(ISING, number=8, slug="landscape", source="notebooks/08_landscape.py")
RECORD = {"profile": "smoke", "parameters": {"seed": 0, "dataset": "fashion-mnist"}, "overrides": {},
          "status": "ok", "error": None, "seconds": 12.3, "started": "2026-01-02T03:04:05+00:00",
          "commit": "abc1234", "device": "CPU: test, 2 cores", "python": "3.11.7", "versions": {"numpy": "2.0"}}


@pytest.mark.slow
def test_a_failing_chapter_raises_and_keeps_its_notebook_and_run_record(tmp_path):
    source = tmp_path / "broken.py"
    source.write_text('# %% tags=["parameters"]\nprofile = "quick"\nclaims_path = None\nseed = 0\n\n'
                      '# %%\nraise RuntimeError("boom " + str(seed))\n')
    ch = replace(CHAPTERS[0], slug="broken", source=str(source),
                 parameters={p: {"seed": 0} for p in ("smoke", "quick", "paper")})
    with pytest.raises(book.ChapterFailed, match="RuntimeError: boom 5"):
        book.execute_chapter(ch, "smoke", {"seed": 5}, out_dir=tmp_path, progress=False)
    executed = list(tmp_path.glob("broken-*.ipynb"))
    assert len(executed) == 1 and not list(tmp_path.glob(".*source*"))
    record = book.load_run_record(executed[0])
    assert record["status"] == "failed" and record["error"] == "RuntimeError: boom 5"
    assert record["parameters"] == {"seed": 5} and record["overrides"] == {"seed": 5} and record["seconds"] > 0


@pytest.mark.slow
def test_the_smoke_book_builds_with_warnings_as_errors(smoke_book):
    assert smoke_book.failure is None
    for ch in CHAPTERS:
        executed = nbformat.read(smoke_book.root / "build" / "chapters" / f"{ch.stem}.ipynb", as_version=4)
        assert executed.metadata.papermill.exception is None
        assert executed.metadata.papermill.parameters["profile"] == "smoke"
        claims = json.loads((smoke_book.root / "build" / "chapters" / f"{ch.stem}.claims.json").read_text())
        assert claims and all(c["profile"] == "smoke" for c in claims)
        assert all(c["kind"] in KINDS and c["criterion"] for c in claims)
        # an identity holds by construction: its check failing is a bug (it may be inconclusive where the scale has no
        # case to check); a paper's or our claim may disagree: that is a finding
        assert [c["name"] for c in claims if c["kind"] == "identity" and c["verdict"] == "disagrees"] == []
        decided = [c["name"] for c in claims if c["verdict"] != "inconclusive"]
        assert len(decided) >= MIN_DECIDED, f"chapter {ch.number} decides only {decided} at the smoke scale"
        record = book.load_run_record(smoke_book.root / "build" / "chapters" / f"{ch.stem}.ipynb")
        assert record["status"] == "ok" and record["profile"] == "smoke" and record["seconds"] > 0
        assert set(record["parameters"]) == set(ch.parameters["smoke"]) and record["commit"] and record["device"]
        assert (smoke_book.html / f"{bookpages.page_docname(ch)}.html").exists()
    claims_page = (smoke_book.html / "book" / "claims.html").read_text()
    assert "max-ent constraints met" in claims_page and "smoke" in claims_page
    assert all(f"{bookpages.page_docname(ch).split('/')[-1]}.html#sec-{ch.slug}-" in claims_page for ch in CHAPTERS)
    timings = json.loads((smoke_book.root / "build" / "timings.json").read_text())
    assert set(timings) == {ch.slug for ch in CHAPTERS} and all("smoke" in t for t in timings.values())


@pytest.mark.slow
def test_chapter_pages_fold_code_and_end_with_their_claims_and_provenance(smoke_book):
    for ch in CHAPTERS:
        page = nbformat.read(smoke_book.root / "build" / bookpages.PAGES / f"{ch.stem}.ipynb", as_version=4)
        code = [c for c in page.cells if c.cell_type == "code"]
        parameters = [c for c in code if {"parameters", "injected-parameters"} & set(c.metadata.tags)]
        assert len(parameters) == 2 and all("remove-cell" in c.metadata.tags for c in parameters)
        assert all({"hide-input", "remove-cell", "show-input"} & set(c.metadata.tags) for c in code)
        outputs = [o for c in code for o in c.outputs]
        assert not [o for o in outputs if o.output_type == "stream" and (o.name == "stderr" or "[claim]" in o.text)]
        markdown = [c.source for c in page.cells if c.cell_type == "markdown"]
        assert markdown[-1].startswith(":::{admonition} Provenance") and "`smoke`" in markdown[-1]
        tables = [m for m in markdown if f":::{{container}} {TABLE_CLASS}" in m]
        claims = json.loads((smoke_book.root / "build" / "chapters" / f"{ch.stem}.claims.json").read_text())
        assert len(tables) == 1 and tables[0].count("{ref}`§") == len(claims), ch.slug
        assert str(REPO_ROOT) not in json.dumps(page) and "np.float64(" not in json.dumps(page)


@pytest.mark.slow
def test_the_execution_report_and_the_figure_map_cover_every_chapter(smoke_book):
    report = (smoke_book.root / "build" / bookpages.PAGES / "execution.md").read_text()
    assert report.count("| ok |") == len(CHAPTERS) and "No chapter failed." in report
    figure_map = (smoke_book.html / "book" / "figures.html").read_text()
    for entry in yaml.safe_load((REPO_ROOT / "book" / "figure_map.yml").read_text()):
        if "section" in entry:
            assert f"#sec-{entry['chapter']}-{entry['section'].replace('.', '-')}" in figure_map
    toc = yaml.safe_load((smoke_book.root / "build" / "_toc.yml").read_text())
    chapters = next(part for part in toc["parts"] if part["caption"] == bookpages.CHAPTERS_CAPTION)["chapters"]
    listed = [entry["file"] for entry in chapters] + [s["file"] for entry in chapters for s in entry.get("sections", [])]
    assert sorted(listed) == sorted(bookpages.page_docname(ch) for ch in CHAPTERS)


def test_the_toc_lists_the_chapters_and_nests_a_continuation_under_its_chapter():
    template = yaml.safe_load((REPO_ROOT / "_toc.yml").read_text())
    toc = bookpages.book_toc(template, [CHAPTERS[0], ISING, LANDSCAPE])
    chapters = next(part for part in toc["parts"] if part["caption"] == bookpages.CHAPTERS_CAPTION)["chapters"]
    assert chapters == [{"file": "build/pages/01_umwelt"},
                        {"file": "build/pages/07_ising", "sections": [{"file": "build/pages/08_landscape"}]}]
    alone = bookpages.book_toc(yaml.safe_load((REPO_ROOT / "_toc.yml").read_text()), [LANDSCAPE])
    assert alone["parts"][1]["chapters"] == [{"file": "build/pages/08_landscape"}]  # its chapter not built: on its own
    with pytest.raises(ValueError, match="exactly one part captioned 'Chapters'"):
        bookpages.book_toc({"parts": []}, [ISING])


def figure_png(width_inches: float, dpi: float) -> bytes:
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(width_inches, 1))
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    plt.close(fig)
    return buffer.getvalue()


@pytest.mark.parametrize("dpi", [96, 192, 110])
def test_a_figure_shows_at_its_physical_width_whatever_its_resolution(dpi):
    assert bookpages.png_css_width(figure_png(3.0, dpi)) == pytest.approx(288, abs=0.6)


def test_the_scrubber_removes_paths_of_the_build_machine_and_numpy_reprs(tmp_path):
    scrub = bookpages.path_scrubber(tmp_path)
    text = (f"run cached in {REPO_ROOT}/build/cache/runs/mlp-1; claims {tmp_path}/build/chapters/a.json; "
            "/x/.venv/lib/python3.11/site-packages/torch/jit/_script.py:1491: FutureWarning; "
            "{1.0: np.float64(0.231), 2: np.int64(3)}")
    assert scrub(text) == ("run cached in build/cache/runs/mlp-1; claims build/chapters/a.json; "
                           "torch/jit/_script.py:1491: FutureWarning; {1.0: 0.231, 2: 3}")


def small_chapter():
    """A two-section notebook as papermill leaves it: parameters, a claim, a warning, a progress widget, a figure
    with a caption, and the chapter's claims table."""
    new = nbformat.v4
    cells = [new.new_markdown_cell("# 7. Title\n\nText."),
             new.new_code_cell("seed = 0", metadata={"tags": ["parameters"]}),
             new.new_code_cell('claims_path = "/tmp/x.json"', metadata={"tags": ["injected-parameters"]}),
             new.new_markdown_cell("Intro.\n## 7.1 First section"),
             new.new_code_cell("ledger.record(...)", outputs=[
                 new.new_output("stream", name="stdout", text="value 1\n[claim] c <= 1: agrees\n"),
                 new.new_output("stream", name="stderr", text="a.py:3: UserWarning: careful\n  warnings.warn(x)\n"),
                 new.new_output("display_data", data={"application/vnd.jupyter.widget-view+json": {}})]),
             new.new_markdown_cell("## Unnumbered"),
             new.new_code_cell("plt.show()", metadata={"mystnb": {"figure": {"caption": "A curve (Fig. 2a)."}}},
                               outputs=[new.new_output("display_data", data={
                                   "image/png": base64.b64encode(figure_png(2.0, 192)).decode(),
                                   "text/plain": "<Figure>"})]),
             new.new_code_cell("ledger.table()", outputs=[new.new_output(
                 "execute_result", data={"text/markdown": "| table |", "text/plain": "<Markdown>"},
                 metadata={"text/markdown": {"adaptsym": {"claims_table": True}}}, execution_count=1)])]
    return new.new_notebook(cells=cells)


CLAIM = {"chapter": "7 ising", "name": "c <= 1", "paper": "§7.1", "measured": 0.5, "verdict": "agrees",
         "profile": "smoke", "dataset": "digits", "detail": "", "kind": "paper", "criterion": "c <= 1"}


def test_a_chapter_page_folds_code_links_claims_and_ends_with_provenance(tmp_path):
    page = bookpages.chapter_page(small_chapter(), ISING, RECORD, [CLAIM], bookpages.path_scrubber(tmp_path))
    cells = page.notebook.cells
    assert [c.metadata.get("tags") for c in cells if c.cell_type == "code"] == [
        ["parameters", "remove-cell"], ["injected-parameters", "remove-cell"], ["hide-input"], ["hide-input"],
        ["hide-input"]]
    assert cells[0].source.startswith("(chapter-ising)=\n# 7. Title")
    assert "\n\n(sec-ising-7-1)=\n## 7.1 First section" in cells[3].source
    assert page.sections == {"": "chapter-ising", "7.1": "sec-ising-7-1", "Unnumbered": "sec-ising-unnumbered"}
    assert [o.text for o in cells[4].outputs] == ["value 1\n"]  # the claim line, the warning and the widget are out
    assert page.warnings == ["a.py:3: UserWarning: careful"]
    assert page.claim_sections == {("7 ising", "c <= 1"): ("sec-ising-7-1", "§7.1")}
    figure = cells[6].metadata.mystnb
    assert figure["figure"]["name"] == "fig-ising-1" and figure["image"]["alt"] == "A curve (Fig. 2a)."
    assert cells[6].outputs[0].metadata["image/png"]["width"] == pytest.approx(192, abs=0.6)
    assert page.figures == [("fig-ising-1", "A curve (Fig. 2a).", "sec-ising-unnumbered")]
    assert cells[7].outputs == [] and cells[8].source.startswith("(chapter-ising-claims)=\n:::{container} claims-table")
    assert "c <= 1 ({ref}`§7.1 <sec-ising-7-1>`)" in cells[8].source
    provenance = cells[-1].source
    assert provenance.startswith(":::{admonition} Provenance") and ":class: dropdown" in provenance
    for shown in ("`smoke`", "12 s", "abc1234", "CPU: test, 2 cores", "numpy 2.0", "| `seed` | 0 |", "digits",
                  "fashion-mnist"):
        assert shown in provenance, shown


def test_a_claim_under_an_unnumbered_subsection_links_with_the_number_of_its_section():
    page = bookpages.ChapterPage(ISING, None, None, [], sections={
        "": "chapter-ising", "Before": "sec-ising-before", "7.4": "sec-ising-7-4", "Two polarities": "sec-ising-two"})
    assert bookpages.section_mark("sec-ising-7-4", page) == "§7.4"
    assert bookpages.section_mark("sec-ising-two", page) == "§7.4"
    assert bookpages.section_mark("sec-ising-before", page) == "§"
    assert bookpages.section_mark("chapter-ising", page) == "§"


def test_a_failed_chapter_says_so_at_its_top_and_a_chapter_without_table_gets_one(tmp_path):
    notebook = small_chapter()
    notebook.cells = notebook.cells[:-1]
    failed = dict(RECORD, status="failed", error=f"RuntimeError: no file {tmp_path}/x")
    cells = bookpages.chapter_page(notebook, ISING, failed, [CLAIM], bookpages.path_scrubber(tmp_path)).notebook.cells
    assert cells[1].source.startswith(":::{error}\nThis chapter failed under profile `smoke`: RuntimeError: no file x")
    assert cells[-2].source.startswith("(chapter-ising-claims)=\n## Claims checked in this chapter")


def test_the_figure_map_links_sections_and_our_figures_and_rejects_a_missing_section(tmp_path):
    page = bookpages.chapter_page(small_chapter(), ISING, RECORD, [CLAIM], bookpages.path_scrubber(tmp_path))
    entries = [{"paper": "zh", "figure": "2a", "shows": "accuracy", "chapter": "ising", "section": "Unnumbered"},
               {"paper": "zh", "figure": "5", "shows": "landscape", "chapter": "landscape"},
               {"paper": "li", "figure": "1", "shows": "a bee", "not_reproduced": "an illustration"}]
    text = bookpages.figure_map(entries, [page])
    assert "| Fig. 2a | accuracy | {ref}`§Unnumbered <sec-ising-unnumbered>` ({numref}`fig-ising-1`) |" in text
    assert "| Fig. 5 | landscape | the landscape chapter (not in this build) |" in text
    assert "| Fig. 1 | a bee | not reproduced: an illustration |" in text
    with pytest.raises(ValueError, match="section 7.9, which chapter ising does not have"):
        bookpages.figure_map([dict(entries[0], section="7.9")], [page])


def test_the_config_names_the_repository_once_and_the_book_appears_on_its_pages_url():
    config = bookpages.book_config(REPO_ROOT)
    assert bookpages.repository_url(config) == "https://github.com/adaptsym/adaptsym"
    assert bookpages.pages_url(config) == "https://adaptsym.github.io/adaptsym/"
    assert bookpages.pages_url(config) in bookpages.citation(config)


def test_search_keeps_a_word_whole_where_the_stemmer_would_cut_it_to_a_stop_word():
    search = SearchEnglishKeepingTerms({})
    assert search.stem("Ising") == "ising"  # Porter: "is", a stop word
    assert search.stem("networks") == "network" and search.stem("Hessians") == "hessian"
    assert "stopwords.indexOf(stem)" in search.js_stemmer_code


def test_figures_are_numbered_per_chapter_in_their_order():
    env = SimpleNamespace(toc_fignumbers={
        "build/pages/07_ising": {"figure": {"b": (12,), "a": (11,), "c": (14,)}},
        "book/intro": {"figure": {"x": (3,)}}})
    assert number_figures_per_chapter(None, env) == ["build/pages/07_ising"]
    assert env.toc_fignumbers["build/pages/07_ising"]["figure"] == {"a": (7, 1), "b": (7, 2), "c": (7, 3)}
    assert env.toc_fignumbers["book/intro"]["figure"] == {"x": (3,)}


def test_an_inline_script_registered_twice_is_emitted_once():
    def script(filename, **attributes):
        return SimpleNamespace(filename=filename, attributes=attributes)

    context = {"script_files": [script(None, body="const A = 1"), script("a.js"), script("", body="const A = 1"),
                                script("a.js"), script("", body="const B = 2")]}
    emit_scripts_once(None, "page", "page.html", context, None)
    assert [(s.filename, s.attributes) for s in context["script_files"]] == [
        (None, {"body": "const A = 1"}), ("a.js", {}), ("", {"body": "const B = 2"})]
