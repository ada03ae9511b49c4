"""Executing chapters with papermill and building the Jupyter Book from the executed notebooks.

Chapter sources are jupytext percent-format ``.py`` files; papermill cannot read those, so each is converted
to an ``.ipynb`` first.  Executed notebooks and their claims go to ``build/`` (ignored by git); the book is
rendered from ``build/chapters`` with ``execute_notebooks: off``.  A notebook that failed under papermill would
still render, so failures are detected from papermill itself and make the build fail.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from .claims import claims_markdown, load_claims
from .profiles import CHAPTERS, DEFAULT_PROFILE, REPO_ROOT, Chapter, resolve_parameters
from .storage import atomic_write_bytes, json_digest

RUNS_DIR = REPO_ROOT / "build" / "runs"
PYTHON_KERNEL = {"name": "python3", "language": "python", "display_name": "Python 3"}


def build_dir(book_root: Path = REPO_ROOT) -> Path:
    """Where a book's executed chapters (``chapters/``), claims table and HTML (``_build/html``) go."""
    return Path(book_root) / "build"


class ChapterFailed(RuntimeError):
    """A chapter raised while papermill executed it; the partly executed notebook is kept for inspection."""


@dataclass(frozen=True)
class ChapterRun:
    chapter: Chapter
    profile: str
    notebook: Path
    claims: Path
    seconds: float


def run_name(ch: Chapter, overrides: Mapping[str, Any] | None) -> str:
    """File stem of an executed chapter: the chapter's stem, plus a hash of the overrides if there are any."""
    if not overrides:
        return ch.stem
    return f"{ch.stem}-{json_digest(dict(overrides), 8)}"


def execute_chapter(ch: Chapter, profile: str = DEFAULT_PROFILE, overrides: Mapping[str, Any] | None = None,
                    out_dir: Path | None = None, progress: bool = True) -> ChapterRun:
    """Execute one chapter under ``profile`` (plus ``overrides``); write the notebook and its claims JSON."""
    import jupytext
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    parameters = resolve_parameters(ch, profile, overrides)
    out_dir = Path(out_dir or RUNS_DIR / profile)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = run_name(ch, overrides)
    notebook, claims = out_dir / f"{stem}.ipynb", out_dir / f"{stem}.claims.json"
    claims.unlink(missing_ok=True)
    source = out_dir / f".{stem}.source.ipynb"
    source_notebook = jupytext.read(ch.source_path)
    source_notebook.metadata.setdefault("kernelspec", PYTHON_KERNEL)  # papermill needs the language
    atomic_write_bytes(source, nbformat.writes(source_notebook).encode())
    start = time.perf_counter()
    try:
        with _environment(ADAPTSYM_PROGRESS="0"):  # the kernel inherits it: no bars saved in the notebook
            papermill.execute_notebook(
                str(source), str(notebook), kernel_name=PYTHON_KERNEL["name"], cwd=str(REPO_ROOT), progress_bar=progress,
                parameters={**parameters, "profile": profile, "claims_path": str(claims)})
    except PapermillExecutionError as err:
        raise ChapterFailed(f"chapter {ch.number} ({ch.slug}) failed under profile {profile!r}: "
                            f"{err.ename}: {err.evalue}\nsee the executed notebook {notebook}") from None
    finally:
        source.unlink(missing_ok=True)
    return ChapterRun(ch, profile, notebook, claims, time.perf_counter() - start)


@contextmanager
def _environment(**variables: str):
    """Set environment variables for the duration of the block, then restore the previous values."""
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def build_book(profile: str = DEFAULT_PROFILE, chapters: tuple[Chapter, ...] = CHAPTERS,
               book_root: Path = REPO_ROOT, strict: bool = True) -> Path:
    """Execute every chapter into ``build/chapters``, write the claims table, render the HTML book.

    ``book_root`` holds ``_config.yml``, ``_toc.yml`` and ``book/`` (the repository itself, or a copy of those
    in tests).  Every chapter is attempted even if an earlier one fails; the HTML is built either way so the
    failure can be read in it, and then :class:`ChapterFailed` lists the failed chapters.  ``strict`` turns
    Sphinx warnings into errors.  Returns the HTML folder.
    """
    build = build_dir(book_root)
    failures, timings = [], {}
    for ch in chapters:
        print(f"== chapter {ch.number} ({ch.slug}), profile {profile}", flush=True)
        try:
            run = execute_chapter(ch, profile, out_dir=build / "chapters")
            timings[ch.slug] = run.seconds
            print(f"   done in {run.seconds:.0f} s -> {run.notebook}", flush=True)
        except ChapterFailed as err:
            failures.append(str(err))
            print(f"   FAILED: {err}", flush=True)
    records = load_claims(build / "chapters" / f"{ch.stem}.claims.json" for ch in chapters)
    atomic_write_bytes(build / "claims_table.md", claims_markdown(records).encode())
    render_html(book_root, strict)
    print(f"chapter timings (s): {json.dumps({k: round(v) for k, v in timings.items()})}")
    if failures:
        raise ChapterFailed("\n".join(failures))
    html = build / "_build" / "html"
    print(f"book written to {html / 'index.html'}")
    return html


def render_html(book_root: Path = REPO_ROOT, strict: bool = True) -> None:
    """Run Jupyter Book 1.x on ``book_root``, writing HTML under ``build/_build/html`` there."""
    jupyter_book = Path(sys.executable).parent / "jupyter-book"  # the CLI installed beside this interpreter
    cmd = [str(jupyter_book), "build", str(book_root), "--path-output", str(build_dir(book_root))]
    if strict:
        cmd += ["-W", "--keep-going"]
    subprocess.run(cmd, check=True)
