"""Executing chapters with papermill, building the Jupyter Book from the executed notebooks, publishing it.

Chapter sources are jupytext percent-format ``.py`` files; papermill cannot read those, so each is converted
to an ``.ipynb`` first.  Executed notebooks, their claims and their run records (provenance: profile,
parameters, device, package versions, wall time, date, commit) go to ``build/chapters`` (ignored by git).  The
book's pages are made from them by :mod:`adaptsym.bookpages` and rendered by Jupyter Book with
``execute_notebooks: off``.  A notebook that failed under papermill is still rendered, under a banner naming the
error, and listed as failed on the execution report; the build then fails.
"""

from __future__ import annotations

import functools
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, Mapping

from .profiles import CHAPTERS, DEFAULT_PROFILE, REPO_ROOT, Chapter, resolve_parameters
from .storage import atomic_write_bytes, atomic_write_json, json_digest

RUNS_DIR = REPO_ROOT / "build" / "runs"
PYTHON_KERNEL = {"name": "python3", "language": "python", "display_name": "Python 3"}
RUN_RECORD = ".run.json"
"""Suffix of a chapter run's record, beside its executed notebook (``01_umwelt.run.json``)."""
VERSIONED_PACKAGES = ("adaptsym", "torch", "numpy", "scipy", "scikit-learn", "matplotlib", "papermill", "myst-nb",
                      "jupyter-book")
MATHJAX_PARTS = ("tex-mml-chtml.js", "a11y", "adaptors", "input", "output", "sre", "ui")
"""What the book serves of MathJax 3 (the combined TeX/MathML-to-CHTML component and what it loads on demand)."""


def build_dir(book_root: Path = REPO_ROOT) -> Path:
    """Where a book's executed chapters (``chapters/``), pages (``pages/``) and HTML (``_build/html``) go."""
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
    """Execute one chapter under ``profile`` (plus ``overrides``); write the notebook, its claims JSON and its run
    record (:func:`run_record`, also when the chapter fails)."""
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
    started, start, error = datetime.now(timezone.utc), time.perf_counter(), None
    try:
        with _environment(ADAPTSYM_PROGRESS="0"):  # the kernel inherits it: no bars saved in the notebook
            papermill.execute_notebook(
                str(source), str(notebook), kernel_name=PYTHON_KERNEL["name"], cwd=str(REPO_ROOT), progress_bar=progress,
                parameters={**parameters, "profile": profile, "claims_path": str(claims)})
    except PapermillExecutionError as err:
        error = f"{err.ename}: {err.evalue}"
        raise ChapterFailed(f"chapter {ch.number} ({ch.slug}) failed under profile {profile!r}: "
                            f"{error}\nsee the executed notebook {notebook}") from None
    finally:
        source.unlink(missing_ok=True)
        seconds = time.perf_counter() - start
        atomic_write_json(out_dir / f"{stem}{RUN_RECORD}",
                          run_record(ch, profile, parameters, overrides, seconds, started, error))
    return ChapterRun(ch, profile, notebook, claims, seconds)


def run_record(ch: Chapter, profile: str, parameters: Mapping[str, Any], overrides: Mapping[str, Any] | None,
               seconds: float, started: datetime, error: str | None) -> dict[str, Any]:
    """The provenance of one chapter run: chapter, profile, parameter values, outcome, wall time, date, commit,
    device and package versions."""
    return {"chapter": ch.number, "slug": ch.slug, "title": ch.title, "stem": ch.stem, "source": ch.source,
            "profile": profile, "parameters": dict(parameters), "overrides": dict(overrides or {}),
            "status": "failed" if error else "ok", "error": error, "seconds": round(seconds, 1),
            "started": started.isoformat(timespec="seconds"), "commit": git_commit(), "device": device_description(),
            "python": platform.python_version(), "versions": package_versions()}


def load_run_record(notebook: Path) -> dict[str, Any] | None:
    """The run record beside an executed notebook, or None if the chapter was never run there."""
    path = Path(notebook).with_name(Path(notebook).stem + RUN_RECORD)
    return json.loads(path.read_text()) if path.exists() else None


@functools.cache
def git_commit() -> str:
    """The repository's commit (short hash), marked "modified" if tracked files differ from it; "unknown" outside
    a git checkout."""
    try:
        head = subprocess.run(["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO_ROOT), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head} (modified)" if dirty else head


@functools.cache
def device_description() -> str:
    """What ``device="auto"`` computes on here: the CUDA device's name, or the CPU's model and core count."""
    import torch

    if torch.cuda.is_available():
        return f"CUDA: {torch.cuda.get_device_name(0)}"
    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                 if line.startswith("model name")]
        model = names[0] if names else model
    return f"CPU: {model}, {os.cpu_count()} cores"


@functools.cache
def package_versions() -> dict[str, str]:
    """Installed versions of the packages whose behaviour the chapters' numbers depend on."""
    versions = {}
    for name in VERSIONED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


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
    """Execute every chapter into ``build/chapters``, then :func:`render_book`.

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
    record_timings(build, chapters)
    html = render_book(chapters, book_root, strict)
    print(f"chapter timings (s): {json.dumps({k: round(v) for k, v in timings.items()})}")
    if failures:
        raise ChapterFailed("\n".join(failures))
    print(f"book written to {html / 'index.html'}")
    return html


def record_timings(build: Path, chapters: tuple[Chapter, ...] = CHAPTERS) -> dict:
    """Merge the wall times of the chapters' latest runs into ``build/timings.json`` (per chapter and profile, so
    that the introduction can show each profile's measured time once it has been built) and return them."""
    path = build / "timings.json"
    timings = json.loads(path.read_text()) if path.exists() else {}
    for ch in chapters:
        record = load_run_record(build / "chapters" / f"{ch.stem}.ipynb")
        if record and record["status"] == "ok":
            timings.setdefault(ch.slug, {})[record["profile"]] = {
                "seconds": record["seconds"], "date": record["started"][:10], "device": record["device"]}
    atomic_write_json(path, timings)
    return timings


def render_book(chapters: tuple[Chapter, ...] = CHAPTERS, book_root: Path = REPO_ROOT, strict: bool = True) -> Path:
    """Make the book's pages from the executed chapters in ``build/chapters`` (:func:`adaptsym.bookpages.write_pages`)
    and render the HTML (:func:`render_html`); returns the HTML folder."""
    from .bookpages import write_pages

    write_pages(Path(book_root), chapters)
    render_html(book_root, strict)
    return build_dir(book_root) / "_build" / "html"


def render_html(book_root: Path = REPO_ROOT, strict: bool = True) -> None:
    """Run Jupyter Book 1.x on ``book_root`` with the table of contents that :func:`render_book` wrote, serving
    MathJax from the book itself (no CDN: the book reads offline); HTML under ``build/_build/html``."""
    build = build_dir(book_root)
    stage_mathjax(build / "static" / "mathjax")
    jupyter_book = Path(sys.executable).parent / "jupyter-book"  # the CLI installed beside this interpreter
    cmd = [str(jupyter_book), "build", str(book_root), "--path-output", str(build), "--toc", str(build / "_toc.yml")]
    if strict:
        cmd += ["-W", "--keep-going"]
    subprocess.run(cmd, check=True)


def stage_mathjax(target: Path) -> None:
    """Copy MathJax 3 (from the ``django-static-mathjax`` wheel, a plain copy of MathJax's ``es5`` folder) to
    ``target``, which ``_config.yml`` serves as ``_static/mathjax``; a copy of the same version is kept."""
    from importlib.resources import files

    source = Path(str(files("mathjax"))) / "static" / "mathjax" / "es5"
    version = metadata.version("django-static-mathjax")
    stamp = target / ".version"
    if stamp.exists() and stamp.read_text() == version:
        return
    shutil.rmtree(target, ignore_errors=True)
    for part in MATHJAX_PARTS:
        if (source / part).is_dir():
            shutil.copytree(source / part, target / part)
        else:
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / part, target / part)
    stamp.write_text(version)


def publish(book_root: Path = REPO_ROOT, remote: str = "origin", branch: str = "gh-pages") -> None:
    """Push the built HTML to ``branch`` of ``remote`` with ghp-import (a fresh commit that replaces the branch's
    content; ``.nojekyll`` so that GitHub Pages serves ``_static``)."""
    html = build_dir(book_root) / "_build" / "html"
    if not (html / "index.html").exists():
        raise FileNotFoundError(f"no built book in {html}: run `adaptsym book` (or `make book`) first")
    ghp_import = Path(sys.executable).parent / "ghp-import"
    subprocess.run([str(ghp_import), "--no-jekyll", "--push", "--force", "--remote", remote, "--branch", branch,
                    "--message", f"book built from {git_commit()}", str(html)], cwd=REPO_ROOT, check=True)
    print(f"published {html} to the {branch} branch of {remote}")
