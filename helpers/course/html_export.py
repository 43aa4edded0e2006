"""Static HTML of the notebooks with their stored outputs, to show the week without a kernel.

``make html`` runs ``python -m helpers.course.html_export --out build/html notebooks/*.ipynb``:
one page per notebook (nbconvert's ``lab`` template, pictures embedded) and an ``index.html``
listing them. Links from one notebook to another are rewritten from ``.ipynb`` to ``.html`` so
they work between the pages; anchors are kept (nbconvert and JupyterLab name headings alike).

The pages work with no network: MathJax (formulas), require.js and the widgets' HTML manager
(the stored widgets, such as the quiz's questions) are copied from npm packages into
``<out>/_static/`` (``make web-assets`` installs them; :mod:`helpers.course.web_assets`).
An explorer's output carries a static picture beside the widget view; the pages show that
picture (a stored widget cannot redraw without a kernel). Every image has alternative text.
"""

from __future__ import annotations

import argparse
import html
import os
import re
import sys
from pathlib import Path

from helpers.course.notebook_io import read_notebook, write_text_atomically

TEMPLATE = "lab"


def link_pattern(names) -> re.Pattern:
    """A link target naming one of ``names`` (notebook stems) + ``.ipynb``, optional #anchor."""
    alternatives = "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True))
    return re.compile(rf"(?<![\w./-])({alternatives})\.ipynb(?=[#)\"'\s]|$)")


def rewrite_links(nb, names, suffix: str = ".html"):
    """Point markdown links to the other notebooks at their pages, ``<stem><suffix>`` (in place;
    returns nb)."""
    pattern = link_pattern(names)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = pattern.sub(lambda m: m.group(1) + suffix, cell.source)
    return nb


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def prefer_static_pictures(nb):
    """Drop the widget view from outputs that also carry a picture (explorers; in place).

    Without a kernel a stored explorer cannot redraw, and its picture is what a reader needs.
    """
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_VIEW in data and "image/png" in data:
                del data[WIDGET_VIEW]
    return nb


def check_paths(paths) -> list[Path]:
    """``paths`` as a list of ``.ipynb`` paths; TypeError/ValueError naming a bad argument."""
    if isinstance(paths, (str, os.PathLike)) or not hasattr(paths, "__iter__"):
        raise TypeError(f"paths must be a list of notebook paths, got {type(paths).__name__}")
    paths = [Path(p) for p in paths]
    if not paths:
        raise ValueError("paths must name at least one notebook")
    wrong = [str(p) for p in paths if p.suffix != ".ipynb"]
    if wrong:
        raise ValueError(f"paths must be .ipynb files, got {', '.join(wrong)}")
    return paths


def notebook_title(nb, fallback: str) -> str:
    """The text of the first level-1 heading, or ``fallback``."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            match = re.search(r"^#\s+(.+)$", cell.source, flags=re.MULTILINE)
            if match:
                return match.group(1).strip()
    return fallback


def index_page(entries, what: str = "pages") -> str:
    """The HTML of index.html: ``entries`` is a list of (page file name, title); ``what`` is
    ``"pages"`` or ``"slides"``."""
    if what not in ("pages", "slides"):
        raise ValueError(f"what must be 'pages' or 'slides', got {what!r}")
    intro = {
        "pages": "Every notebook of the week with the outputs it stores, as static pages: nothing "
        "here runs code. To run and change the code, open the notebooks in JupyterLab "
        "(<code>make lab</code>). The pages need no network connection.",
        "slides": "Every notebook of the week as a slide deck with its stored outputs: arrow keys "
        "move (down for a slide's details), <kbd>s</kbd> opens the speaker notes. To run the "
        "code during a walkthrough, use the live slideshow in JupyterLab (README).",
    }
    heading = {"pages": "the notebooks", "slides": "the notebooks as slides"}
    items = "\n".join(
        f'    <li><a href="{html.escape(page)}">{html.escape(title)}</a></li>'
        for page, title in entries
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Improving Deep Neural Networks, week 3: {heading[what]}</title>
  <style>
    body {{ font-family: sans-serif; max-width: 46em; margin: 2em auto; line-height: 1.5; }}
    li {{ margin: 0.3em 0; }}
  </style>
</head>
<body>
  <h1>Improving Deep Neural Networks, week 3</h1>
  <p>{intro[what]}</p>
  <ol start="0">
{items}
  </ol>
</body>
</html>
"""


def export_html(paths, out_dir, *, node_modules=None) -> list[Path]:
    """Write one HTML page per notebook in ``paths`` and ``index.html`` into ``out_dir``.

    The scripts the pages load are copied from ``node_modules`` (default
    ``build/web/node_modules``, see :mod:`helpers.course.web_assets`) into ``out_dir/_static``.
    Returns the written files, index last. Raises ``TypeError``/``ValueError`` naming a bad
    argument, ``FileNotFoundError`` for a missing notebook or package.
    """
    from nbconvert import HTMLExporter

    from helpers.course import web_assets

    paths = check_paths(paths)
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"notebook not found: {', '.join(missing)}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    urls = web_assets.install(out_dir, node_modules=node_modules)

    exporter = HTMLExporter(template_name=TEMPLATE, **web_assets.exporter_settings(urls))
    return write_pages(
        exporter, paths, out_dir, suffix=".html", what="pages", prepare=drop_speaker_notes
    )


def drop_speaker_notes(nb):
    """Remove the speaker-notes cells (slide type ``notes``): they are for the slides only."""
    nb.cells = [c for c in nb.cells if c.metadata.get("slideshow", {}).get("slide_type") != "notes"]
    return nb


def write_pages(
    exporter, paths, out_dir: Path, *, suffix: str, what: str, prepare=None
) -> list[Path]:
    """Export each notebook with ``exporter`` to ``<stem><suffix>`` in ``out_dir`` (links between
    them rewritten, explorers as their pictures, then ``prepare(nb)`` if given), then
    ``index.html``; return them, index last.
    """
    names = {p.stem for p in paths}
    written, entries = [], []
    for path in sorted(paths):
        nb = prefer_static_pictures(rewrite_links(read_notebook(path), names, suffix))
        if prepare is not None:
            nb = prepare(nb)
        title = notebook_title(nb, path.stem)
        body, _resources = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
        page = out_dir / f"{path.stem}{suffix}"
        write_text_atomically(body, page)
        written.append(page)
        entries.append((page.name, title))
    index = out_dir / "index.html"
    write_text_atomically(index_page(entries, what=what), index)
    return [*written, index]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Export the notebooks to static HTML pages.")
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=Path("build/html"), help="output folder")
    parser.add_argument("--node-modules", type=Path, default=None, help="npm packages folder")
    args = parser.parse_args(argv)
    return report_pages(export_html, args.notebooks, args.out, node_modules=args.node_modules)


def report_pages(write, *args, **kwargs) -> int:
    """Run ``write`` (export_html or slides.build_slides); print a ✓ line per page written, or
    the error in one ✗ line. Return the command's exit status."""
    try:
        written = write(*args, **kwargs)
    except (ValueError, FileNotFoundError) as error:
        print(f"✗ {error}", file=sys.stderr)
        return 1
    for page in written:
        print(f"✓ {page}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
