"""A PDF handout per deck: Chromium prints each deck's ``?print-pdf`` view, one slide a page.

    python -m helpers.course.handout --out build/handout build/slides/*.slides.html  # make handout

reveal.js lays a deck out for printing when its address ends in ``?print-pdf``: every slide on a
page of its own, fragments shown. Chromium (Debian's, driven by Playwright; no browser download)
opens each deck from a local HTTP server on 127.0.0.1 and prints that view to
``<out>/<stem>.pdf``. A slide taller than its page would be cut (reveal.js prints at most one
page a slide here); the decks' own layout splits tall slides, and this tool checks that none is
cut and that the PDF has one page per slide, or says which deck failed.
"""

from __future__ import annotations

import argparse
import contextlib
import http.server
import os
import re
import sys
import threading
from pathlib import Path

from helpers.course.notebook_io import write_bytes_atomically, write_text_atomically

CHROMIUM = Path(os.environ.get("DNN_WEEK3_CHROMIUM", "/usr/bin/chromium"))
# Debian's Chromium as root in a container without a network: no sandbox, no GPU, and none of
# the background connections a closed network refuses many times a second.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# the page tree's nodes: "<</Type /Pages /Count 26 /Kids [...]>>", the root counting every page
_PAGES = re.compile(rb"<<(?:(?!>>).)*?/Type\s*/Pages(?![A-Za-z])(?:(?!>>).)*>>", re.S)
_COUNT = re.compile(rb"/Count\s+(\d+)")
# In reveal.js's print view: the pages, and the slides whose content is taller than their page.
_PRINT_VIEW = """() => {
    const pages = [...document.querySelectorAll('.reveal .slides .pdf-page')];
    const cut = pages.map((page, i) => [i + 1, page, page.querySelector('section')])
        .filter(([i, page, s]) => s && s.scrollHeight > page.clientHeight + 1)
        .map(([i]) => i);
    return {slides: pages.length, cut: cut};
}"""


@contextlib.contextmanager
def serve_folder(folder):
    """Serve ``folder`` over HTTP on 127.0.0.1 and a free port; yield the base URL."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(folder), **kwargs)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def pdf_page_count(data: bytes) -> int:
    """The number of pages of a PDF whose page tree is not compressed (Chromium's is not): the
    largest ``/Count`` of its ``/Pages`` nodes, the root's. 0 when there is no page tree."""
    counts = [int(c) for node in _PAGES.findall(data) for c in _COUNT.findall(node)]
    return max(counts, default=0)


def print_handouts(
    decks, out_dir, *, chromium=None, browser=None, timeout_ms: int = 60_000
) -> list[dict]:
    """Print each deck (``<stem>.slides.html`` files of one folder) to ``out_dir/<stem>.pdf``.

    ``browser``: a Playwright Chromium browser to print with (default: Chromium at ``chromium``,
    started here).

    Returns one dict per deck: ``pdf`` (its path), ``pages`` (in the PDF), ``slides`` (laid out
    by reveal.js), ``cut`` (numbers of the slides taller than their page). Raises
    ``FileNotFoundError`` for a missing deck or browser, ``ValueError`` for decks in several
    folders or a file that is not a deck.
    """
    from playwright.sync_api import sync_playwright

    decks = [Path(d) for d in decks]
    if not decks:
        raise ValueError("decks must name at least one .slides.html file")
    wrong = [str(d) for d in decks if not d.name.endswith(".slides.html")]
    if wrong:
        raise ValueError(f"decks must be .slides.html files (make slides), got {', '.join(wrong)}")
    missing = [str(d) for d in decks if not d.is_file()]
    if missing:
        raise FileNotFoundError(f"deck not found: {', '.join(missing)} (run `make slides`)")
    folders = {d.resolve().parent for d in decks}
    if len(folders) != 1:
        raise ValueError("decks must all be in one folder (they share its _static)")
    chromium = Path(chromium) if chromium is not None else CHROMIUM
    if browser is None and not chromium.exists():
        raise FileNotFoundError(f"no browser at {chromium}: apt-get install chromium")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with serve_folder(folders.pop()) as base:
        if browser is not None:
            return _print(browser, base, sorted(decks), out_dir, timeout_ms)
        with sync_playwright() as playwright:
            started = playwright.chromium.launch(
                executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS
            )
            try:
                return _print(started, base, sorted(decks), out_dir, timeout_ms)
            finally:
                started.close()


def _print(browser, base: str, decks, out_dir: Path, timeout_ms: int) -> list[dict]:
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    try:
        page = context.new_page()
        page.set_default_timeout(timeout_ms)
        results = []
        for deck in decks:
            page.goto(f"{base}{deck.name}?print-pdf")
            page.locator("html[data-course-pdf-ready]").wait_for(state="attached")
            view = page.evaluate(_PRINT_VIEW)
            pdf = page.pdf(prefer_css_page_size=True, print_background=True)
            target = out_dir / f"{deck.name.removesuffix('.slides.html')}.pdf"
            write_bytes_atomically(pdf, target)
            results.append({"pdf": target, "pages": pdf_page_count(pdf), **view})
        return results
    finally:
        context.close()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("decks", nargs="+", type=Path, help="<stem>.slides.html files")
    parser.add_argument("--out", type=Path, default=Path("build/handout"))
    args = parser.parse_args(argv)
    try:
        results = print_handouts(args.decks, args.out)
    except (ValueError, FileNotFoundError) as error:
        print(f"✗ {error}", file=sys.stderr)
        return 1
    status = 0
    lines = []
    for result in results:
        name = result["pdf"]
        if result["cut"] or result["pages"] != result["slides"]:
            status = 1
            print(
                f"✗ {name}: {result['pages']} pages for {result['slides']} slides; "
                f"cut: {result['cut'] or 'none'}",
                file=sys.stderr,
            )
        else:
            print(f"✓ {name} ({result['pages']} pages, one slide each)")
        lines.append(f"{name.name}\t{result['pages']}")
    write_text_atomically("\n".join(lines) + "\n", args.out / "pages.tsv")
    return status


if __name__ == "__main__":
    sys.exit(main())
