"""The smoke book as a reader's browser shows it: headless Chromium (Debian's ``chromium`` and ``chromium-driver``,
driven by Selenium) opens every page of the book that the session's ``smoke_book`` fixture built, served over HTTP
on the loopback interface.

Every page: no JavaScript console error; every equation typeset by MathJax (served by the book itself: no CDN) and
no raw ``$...$`` left; every image loaded; every internal link and anchor resolving; no claims table or output
wider than its column; no path of the build machine.  Chapter pages: every figure numbered per chapter, captioned,
with alt text, shown at its physical size (not shrunk to the column: the book style's smallest font, 9 pt, then
renders at 9 pt); downloads serving the executed notebook and the ``.py`` source.  Search finds the book's
key terms ("Ising").  Screenshots of the landing page and a chapter go to ``build/screenshots/``.
"""

from __future__ import annotations

import functools
import json
import re
import shutil
import tempfile
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urldefrag

import pytest
import yaml

from adaptsym.bookpages import page_docname
from adaptsym.profiles import CHAPTERS, REPO_ROOT

pytestmark = pytest.mark.slow

CHROMIUM, CHROMEDRIVER = "chromium", "chromedriver"
INSTALL = "sudo apt-get install -y chromium chromium-driver"
SCREENSHOTS = REPO_ROOT / "build" / "screenshots"
SEARCH_TERMS = {"Ising": "07_ising", "Hessian": "06_plasticity", "Umwelt": "01_umwelt"}

PAGE_SCRIPT = """
const done = arguments[arguments.length - 1];
(async () => {
  const images = Array.from(document.images);
  images.forEach(img => { img.loading = 'eager'; });
  await Promise.allSettled(images.map(img => img.decode()));
  let mathjax = 'absent';
  const hasMath = document.querySelector('.math') !== null;
  for (let waited = 0; hasMath && !(window.MathJax && MathJax.startup && MathJax.startup.promise) && waited < 20000;
       waited += 100) {
    await new Promise(resolve => setTimeout(resolve, 100));  // MathJax's deferred script not run yet
  }
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    try { await MathJax.startup.promise; mathjax = 'typeset'; } catch (e) { mathjax = 'failed: ' + e; }
  }
  const article = document.querySelector('article') || document.body;
  const prose = article.cloneNode(true);
  prose.querySelectorAll('pre, code, script, style, mjx-container, .highlight').forEach(e => e.remove());
  const overflowing = sel => Array.from(document.querySelectorAll(sel))
    .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.textContent.slice(0, 80));
  done({
    title: document.title,
    mathjax: mathjax,
    typeset: document.querySelectorAll('mjx-container').length,
    untypeset: Array.from(document.querySelectorAll('.math')).filter(e => !e.querySelector('mjx-container'))
      .map(e => e.textContent.slice(0, 80)),
    prose: prose.textContent,
    images: images.map(img => ({
      src: img.currentSrc, loaded: img.complete && img.naturalWidth > 0, alt: img.alt,
      shown: img.getBoundingClientRect().width, physical: parseFloat(img.style.width || img.getAttribute('width') || '0'),
      output: !!img.closest('.cell_output'),
      number: (img.closest('figure')?.querySelector('.caption-number')?.textContent || '').trim(),
      caption: (img.closest('figure')?.querySelector('figcaption')?.textContent || '').trim()})),
    links: Array.from(document.querySelectorAll('a[href]')).map(a => a.href),
    downloads: Array.from(document.querySelectorAll('a[class*="btn-download"]')).map(a => a.href),
    launches: Array.from(document.querySelectorAll('a')).map(a => a.href)
      .filter(h => h.includes('mybinder.org') || h.includes('colab.research.google.com')),
    overflowing: overflowing('.claims-table .pst-scrollable-table-container, .claims-table table')
      .concat(overflowing('div.cell_output pre'))});
})();
"""


@dataclass
class Page:
    """What the browser found on one page."""

    path: str
    errors: list[str]
    found: dict = field(default_factory=dict)


@pytest.fixture(scope="module")
def browser():
    missing = [name for name in (CHROMIUM, CHROMEDRIVER) if shutil.which(name) is None]
    if missing:
        pytest.fail(f"the browser test needs headless Chromium ({', '.join(missing)} not found): run `{INSTALL}` "
                    "(`make test` installs it)")
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = shutil.which(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,1000", "--force-device-scale-factor=1"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(shutil.which(CHROMEDRIVER)))
    driver.set_script_timeout(60)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def site(smoke_book):
    """The smoke book's HTML served on 127.0.0.1 (a free port); yields its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(smoke_book.html))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    thread.join()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def book_pages(html: Path) -> list[str]:
    """Every HTML page of the book (not the copied sources or the theme's assets)."""
    return sorted(str(p.relative_to(html)) for p in html.rglob("*.html")
                  if not p.relative_to(html).parts[0].startswith("_"))


@pytest.fixture(scope="module")
def pages(browser, site, smoke_book) -> dict[str, Page]:
    """Each page of the book, opened in the browser: console errors and what :data:`PAGE_SCRIPT` found."""
    found = {}
    browser.get_log("browser")
    for path in book_pages(smoke_book.html):
        open_page(browser, site + path)
        result = browser.execute_async_script(PAGE_SCRIPT)
        errors = [entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
        found[path] = Page(path, errors, result)
    return found


def open_page(browser, url: str) -> None:
    """Load ``url`` and wait until the document has loaded completely (``get`` may return before it has)."""
    from selenium.webdriver.support.ui import WebDriverWait

    browser.execute_script("window.previousPage = true")
    browser.get(url)
    WebDriverWait(browser, 30).until(lambda d: d.execute_script(
        "return !window.previousPage && document.readyState === 'complete'"))


def chapter_pages(pages: dict[str, Page]) -> dict[str, Page]:
    return {path: page for path, page in pages.items()
            if any(path == f"{page_docname(ch)}.html" for ch in CHAPTERS)}


def test_the_browser_sees_every_page_of_the_book(pages, smoke_book):
    names = set(pages)
    assert {"index.html", "book/intro.html", "book/claims.html", "book/execution.html", "book/figures.html",
            "book/running.html", "book/bibliography.html", "search.html"} <= names
    built = [ch for ch in CHAPTERS if (smoke_book.root / "build" / "chapters" / f"{ch.stem}.ipynb").exists()]
    assert len(chapter_pages(pages)) == len(built) == len(CHAPTERS)


def test_no_page_logs_a_javascript_error(pages):
    assert {path: page.errors for path, page in pages.items() if page.errors} == {}


def test_every_equation_is_typeset_and_no_raw_tex_is_left(pages):
    assert {path: page.found["untypeset"] for path, page in pages.items() if page.found["untypeset"]} == {}
    assert {path: page.found["mathjax"] for path, page in pages.items() if page.found["mathjax"].startswith("failed")} == {}
    raw = {path: re.findall(r"\$[^$\s][^$]{0,80}\$", page.found["prose"]) for path, page in pages.items()}
    assert {path: found for path, found in raw.items() if found} == {}
    assert pages["book/intro.html"].found["typeset"] > 0  # MathJax does run, offline


def test_every_image_loads(pages):
    broken = {path: [i["src"] for i in page.found["images"] if not i["loaded"]] for path, page in pages.items()}
    assert {path: srcs for path, srcs in broken.items() if srcs} == {}


def test_chapter_figures_are_numbered_captioned_described_and_legible(pages):
    problems = []
    for path, page in chapter_pages(pages).items():
        chapter = next(ch for ch in CHAPTERS if path == f"{page_docname(ch)}.html")
        for image in (i for i in page.found["images"] if i["output"]):
            name = f"{path}: {image['number'] or 'an unnumbered figure'}"
            if not re.fullmatch(rf"Figure {chapter.number}\.\d+", image["number"]) or not image["caption"]:
                problems.append(f"{name} has no number of chapter {chapter.number} or no caption")
            if not image["alt"] or re.search(r"_images/|\.(png|jpe?g|svg)$", image["alt"]):
                problems.append(f"{name} has alt text {image['alt']!r}")
            if not image["physical"] or image["shown"] < image["physical"] - 1:
                problems.append(f"{name} is shown at {image['shown']:.0f} px of its {image['physical']:.0f} px: "
                                "its 9 pt labels render smaller (make it at most plotting.TEXT_WIDTH inches wide)")
    assert problems == [], "\n".join(problems)


def test_every_internal_link_and_anchor_resolves(pages, site):
    fetch = functools.cache(_fetch)
    broken = []
    for path, page in pages.items():
        for link in page.found["links"]:
            target, fragment = urldefrag(link)
            if not target.startswith(site):
                continue
            status, text = fetch(target)
            if status != 200:
                broken.append(f"{path} -> {link}: HTTP {status}")
            elif fragment and not re.search(rf"""\b(id|name)=["']{re.escape(fragment)}["']""", text):
                broken.append(f"{path} -> {link}: no anchor #{fragment}")
    assert broken == []


def _fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as err:
        return err.code, ""


def test_nothing_is_wider_than_its_column(pages):
    assert {path: page.found["overflowing"] for path, page in pages.items() if page.found["overflowing"]} == {}


def test_no_page_shows_a_path_of_the_build_machine(pages, smoke_book):
    machine = [str(REPO_ROOT), str(smoke_book.root), str(Path.home()) + "/", tempfile.gettempdir() + "/",
               "site-packages"]
    leaks = {}
    for path in pages:
        text = (smoke_book.html / path).read_text()
        found = [m for m in machine if m in text]
        if found:
            leaks[path] = found
    assert leaks == {}


def test_the_landing_page_is_the_book_and_lists_its_chapters(pages, smoke_book):
    config = yaml.safe_load((smoke_book.root / "_config.yml").read_text())
    landing = pages["book/intro.html"].found
    assert landing["title"].startswith(config["title"])
    for ch in CHAPTERS:
        assert any(link.endswith(f"{page_docname(ch)}.html") for link in landing["links"]), ch.slug
    assert config["repository"]["url"] in landing["links"]
    assert any("doi.org" in link for link in landing["links"]) and any("arxiv.org" in link for link in landing["links"])


@pytest.mark.parametrize("term, chapter", SEARCH_TERMS.items())
def test_search_finds_the_key_terms(browser, site, term, chapter):
    from selenium.webdriver.support.ui import WebDriverWait

    open_page(browser, f"{site}search.html?q={term}")
    wait = WebDriverWait(browser, 30)
    wait.until(lambda d: d.execute_script("return document.querySelectorAll('#search-results li').length > 0 || "
                                          "/finished/i.test(document.querySelector('#search-results')?.textContent)"))
    hits = browser.execute_script("return Array.from(document.querySelectorAll('#search-results li a'))"
                                  ".map(a => a.href)")
    assert any(chapter in hit for hit in hits), (term, hits)


def test_downloads_serve_the_executed_notebook_and_the_source(pages, smoke_book):
    config = yaml.safe_load((smoke_book.root / "_config.yml").read_text())
    for path, page in chapter_pages(pages).items():
        downloads = {Path(urldefrag(link)[0]).suffix: link for link in page.found["downloads"]}
        status, notebook = _fetch(downloads[".ipynb"])
        assert status == 200 and json.loads(notebook)["cells"], path
        status, source = _fetch(downloads[".py"])
        assert status == 200 and source.startswith("# ---") and "# %%" in source, path
        owner_repo = config["repository"]["url"].split("github.com/")[1]
        assert any("mybinder.org" in link and owner_repo in link for link in page.found["launches"]), path
        assert any("colab" in link and owner_repo in link for link in page.found["launches"]), path


def test_screenshots_of_the_landing_page_and_a_chapter(browser, site):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for name, path in {"landing": "book/intro.html", "chapter": f"{page_docname(CHAPTERS[-1])}.html"}.items():
        open_page(browser, site + path)
        browser.execute_async_script(PAGE_SCRIPT)
        assert browser.save_screenshot(str(SCREENSHOTS / f"{name}.png"))
        assert (SCREENSHOTS / f"{name}.png").stat().st_size > 10_000
