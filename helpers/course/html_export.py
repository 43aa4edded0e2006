"""Static HTML of the notebooks with their stored outputs, to show the week without a kernel.

``make html`` runs ``python -m helpers.course.html_export --out build/html notebooks/*.ipynb``:
one page per notebook (nbconvert's ``lab`` template, pictures embedded) and an ``index.html``
listing them. Links from one notebook to another are rewritten from ``.ipynb`` to ``.html`` so
they work between the pages; anchors are kept (nbconvert and JupyterLab name headings alike).

Formulas (MathJax) and the widgets' stored state are drawn by scripts nbconvert loads from a
CDN, so those need a network connection when the pages are viewed; text, code, printed output
and plots do not.
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


def rewrite_links(nb, names):
    """Point markdown links to the other notebooks at their HTML pages (in place; returns nb)."""
    pattern = link_pattern(names)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = pattern.sub(r"\1.html", cell.source)
    return nb


def notebook_title(nb, fallback: str) -> str:
    """The text of the first level-1 heading, or ``fallback``."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            match = re.search(r"^#\s+(.+)$", cell.source, flags=re.MULTILINE)
            if match:
                return match.group(1).strip()
    return fallback


def index_page(entries) -> str:
    """The HTML of index.html: ``entries`` is a list of (page file name, title)."""
    items = "\n".join(
        f'    <li><a href="{html.escape(page)}">{html.escape(title)}</a></li>'
        for page, title in entries
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Improving Deep Neural Networks, week 3: the notebooks</title>
  <style>
    body {{ font-family: sans-serif; max-width: 46em; margin: 2em auto; line-height: 1.5; }}
    li {{ margin: 0.3em 0; }}
  </style>
</head>
<body>
  <h1>Improving Deep Neural Networks, week 3</h1>
  <p>Every notebook of the week with the outputs it stores, as static pages: nothing here runs
  code. To run and change the code, open the notebooks in JupyterLab (<code>make lab</code>).
  Formulas and widgets are drawn by scripts loaded from the web, so they need a connection.</p>
  <ol start="0">
{items}
  </ol>
</body>
</html>
"""


def export_html(paths, out_dir) -> list[Path]:
    """Write one HTML page per notebook in ``paths`` and ``index.html`` into ``out_dir``.

    Returns the written files, index last. Raises ``TypeError``/``ValueError`` naming a bad
    argument, ``FileNotFoundError`` for a missing notebook.
    """
    from nbconvert import HTMLExporter

    if isinstance(paths, (str, os.PathLike)) or not hasattr(paths, "__iter__"):
        raise TypeError(f"paths must be a list of notebook paths, got {type(paths).__name__}")
    paths = [Path(p) for p in paths]
    if not paths:
        raise ValueError("paths must name at least one notebook")
    wrong = [str(p) for p in paths if p.suffix != ".ipynb"]
    if wrong:
        raise ValueError(f"paths must be .ipynb files, got {', '.join(wrong)}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    exporter = HTMLExporter(template_name=TEMPLATE)
    names = {p.stem for p in paths}
    written, entries = [], []
    for path in sorted(paths):
        nb = rewrite_links(read_notebook(path), names)
        title = notebook_title(nb, path.stem)
        body, _resources = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
        page = out_dir / f"{path.stem}.html"
        write_text_atomically(body, page)
        written.append(page)
        entries.append((page.name, title))
    index = out_dir / "index.html"
    write_text_atomically(index_page(entries), index)
    return [*written, index]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Export the notebooks to static HTML pages.")
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=Path("build/html"), help="output folder")
    args = parser.parse_args(argv)
    try:
        written = export_html(args.notebooks, args.out)
    except (ValueError, FileNotFoundError) as error:
        print(f"✗ {error}", file=sys.stderr)
        return 1
    for page in written:
        print(f"✓ {page}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
