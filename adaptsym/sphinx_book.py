"""The book's Sphinx extension (``_config.yml`` loads it): what Jupyter Book 1.x does not do, or does wrong.

* Figures are numbered per chapter (Figure 7.3), from the chapter's number in :data:`adaptsym.profiles.CHAPTERS`:
  without a numbered table of contents (the chapters number their own sections) Sphinx numbers figures through
  the whole book.
* Each inline script is emitted once.  sphinx-thebe adds its configuration script (``const THEBE_JS_URL = ...``)
  at ``env-before-read-docs``, after the HTML builder was set up, so Sphinx gives it to the builder with the file
  name ``None``; the builder then re-adds the registered scripts under the name ``''`` while preparing to write,
  and ``None != ''`` defeats its de-duplication: every page declared the constant twice (a SyntaxError).
* A chapter's download menu offers its jupytext ``.py`` source beside the executed ``.ipynb``; its launch buttons
  open that source on Binder (jupytext opens it as a notebook) and the executed notebook, as published on the
  ``gh-pages`` branch, on Colab.
* Search keeps a word whole where the Porter stemmer would cut it to a stop word or to under three letters
  ("Ising" -> "is"), in the index and in the query alike, so such words can be found.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sphinx.search import languages
from sphinx.search.en import SearchEnglish

from .bookpages import page_docname
from .profiles import CHAPTERS

CHAPTER_NUMBERS = {page_docname(ch): ch.number for ch in CHAPTERS}
SOURCES = {page_docname(ch): ch for ch in CHAPTERS}


def setup(app):
    app.connect("env-get-updated", number_figures_per_chapter, priority=900)  # after Sphinx numbers them
    app.connect("html-page-context", emit_scripts_once, priority=900)
    app.connect("html-page-context", chapter_buttons, priority=900)  # after the theme made its buttons (501)
    app.connect("build-finished", copy_chapter_sources)
    languages["en"] = SearchEnglishKeepingTerms
    return {"parallel_read_safe": True, "parallel_write_safe": True}


def number_figures_per_chapter(app, env) -> list[str]:
    """Renumber each chapter's figures (and tables, code blocks) ``(chapter, k)`` in their order in the chapter."""
    changed = []
    for docname, by_type in env.toc_fignumbers.items():
        number = CHAPTER_NUMBERS.get(docname)
        if number is None:
            continue
        for figtype, numbers in by_type.items():
            ordered = sorted(numbers, key=lambda figure_id: numbers[figure_id])
            renumbered = {figure_id: (number, k) for k, figure_id in enumerate(ordered, start=1)}
            if renumbered != numbers:
                by_type[figtype] = renumbered
                changed.append(docname)
    return sorted(set(changed))


def emit_scripts_once(app, pagename, templatename, context, doctree) -> None:
    """Drop repeated scripts from the page (see the module docstring for why sphinx-thebe's repeats)."""
    seen, unique = set(), []
    for script in context.get("script_files", []):
        key = (getattr(script, "filename", script) or "", tuple(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def chapter_buttons(app, pagename, templatename, context, doctree) -> None:
    """On a chapter's page: a ``.py`` download, and launch links that open what the repository really holds."""
    ch = SOURCES.get(pagename)
    if ch is None:
        return
    options = app.config.html_theme_options
    owner, repo = options["repository_url"].rstrip("/").split("/")[-2:]
    branch = options.get("repository_branch", "main")
    launch = options.get("launch_buttons", {})
    for group in context.get("header_buttons", []):
        if group.get("label") == "download-buttons":
            group["buttons"].insert(1, {
                "type": "link", "url": f"{context['pathto']('_sources', 1)}/{pagename}.py", "text": ".py",
                "tooltip": "Download the chapter's source (jupytext percent format)", "icon": "fas fa-code",
                "label": "download-py-button"})
        for button in group.get("buttons", []):
            if button.get("text") == "Binder":
                button["url"] = (f"{launch['binderhub_url'].rstrip('/')}/v2/gh/{owner}/{repo}/{branch}"
                                 f"?urlpath=lab/tree/{ch.source}")
            elif button.get("text") == "Colab":
                button["url"] = (f"{launch['colab_url'].rstrip('/')}/github/{owner}/{repo}/blob/gh-pages/"
                                 f"_sources/{pagename}.ipynb")


def copy_chapter_sources(app, exception) -> None:
    """Put each chapter's ``.py`` source beside its notebook in ``_sources`` (what the ``.py`` download serves)."""
    if exception is not None or app.builder.format != "html":
        return
    for docname, ch in SOURCES.items():
        if docname in app.env.found_docs:
            target = Path(app.outdir) / "_sources" / f"{docname}.py"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ch.source_path, target)


class SearchEnglishKeepingTerms(SearchEnglish):
    """English search that keeps a word whole where its stem is a stop word or shorter than three letters."""

    js_stemmer_code = SearchEnglish.js_stemmer_code + """
var PorterStemmer = Stemmer;
Stemmer = function() {
  var porter = new PorterStemmer();
  this.stemWord = function(word) {
    var stem = porter.stemWord(word);
    var cut = stem.length < 3 || stopwords.indexOf(stem) !== -1;
    return cut && word.length >= 3 && stopwords.indexOf(word) === -1 ? word : stem;
  };
};
"""

    def stem(self, word: str) -> str:
        stem, word = super().stem(word), word.lower()
        cut = len(stem) < 3 or stem in self.stopwords
        return word if cut and len(word) >= 3 and word not in self.stopwords else stem
