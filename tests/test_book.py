"""Executing chapters with papermill and building the book (slow: minutes)."""

import json
import shutil
from dataclasses import replace

import nbformat
import pytest

from adaptsym import book
from adaptsym.claims import KINDS
from adaptsym.profiles import CHAPTERS, REPO_ROOT

pytestmark = pytest.mark.slow

MIN_DECIDED = 3
"""Every chapter's smoke run decides at least this many claims, so that the book test exercises each chapter's
verdicts and not only its plumbing."""


def test_a_failing_chapter_raises_and_keeps_its_notebook(tmp_path, monkeypatch):
    source = tmp_path / "broken.py"
    source.write_text('# %% tags=["parameters"]\nprofile = "quick"\nclaims_path = None\nseed = 0\n\n'
                      '# %%\nraise RuntimeError("boom " + str(seed))\n')
    ch = replace(CHAPTERS[0], slug="broken", source=str(source),
                 parameters={p: {"seed": 0} for p in ("smoke", "quick", "paper")})
    with pytest.raises(book.ChapterFailed, match="RuntimeError: boom 5"):
        book.execute_chapter(ch, "smoke", {"seed": 5}, out_dir=tmp_path, progress=False)
    executed = list(tmp_path.glob("broken-*.ipynb"))
    assert len(executed) == 1 and not list(tmp_path.glob(".*source*"))


def test_book_builds_from_smoke_chapters_with_warnings_as_errors(tmp_path):
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(REPO_ROOT / name, tmp_path / name)
    shutil.copytree(REPO_ROOT / "book", tmp_path / "book")
    html = book.build_book("smoke", book_root=tmp_path, strict=True)

    for ch in CHAPTERS:
        executed = nbformat.read(tmp_path / "build" / "chapters" / f"{ch.stem}.ipynb", as_version=4)
        assert executed.metadata.papermill.exception is None
        assert executed.metadata.papermill.parameters["profile"] == "smoke"
        claims = json.loads((tmp_path / "build" / "chapters" / f"{ch.stem}.claims.json").read_text())
        assert claims and all(c["profile"] == "smoke" for c in claims)
        assert all(c["kind"] in KINDS and c["criterion"] for c in claims)
        # an identity holds by construction: its check failing is a bug (it may be inconclusive where the scale has no
        # case to check); a paper's or our claim may disagree: that is a finding
        assert [c["name"] for c in claims if c["kind"] == "identity" and c["verdict"] == "disagrees"] == []
        decided = [c["name"] for c in claims if c["verdict"] != "inconclusive"]
        assert len(decided) >= MIN_DECIDED, f"chapter {ch.number} decides only {decided} at the smoke scale"
        assert (html / "build" / "chapters" / f"{ch.stem}.html").exists()
    claims_page = (html / "book" / "claims.html").read_text()
    assert "max-ent constraints met" in claims_page and "smoke" in claims_page
