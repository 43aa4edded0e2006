"""Slides from the notebooks: the slide metadata (annotate) and the reveal.js decks (build).

    python -m helpers.course.slides annotate [--force] notebooks/*.ipynb
    python -m helpers.course.slides build --out build/slides notebooks/*.ipynb   # make slides

``annotate`` gives every cell a ``slideshow.slide_type`` by rule, so the same notebooks drive
nbconvert's slides (``make slides``) and a live slideshow in JupyterLab (RISE):

- a markdown cell is split so that each heading (levels 1–3) starts its own cell: a slide, and
  a link to the section (``#cell-id=``), then begin at the heading, not at the end of the
  section before it (cells with nbgrader metadata are left whole);
- a markdown cell with a level-1 or level-2 heading starts a slide; one with a level-3 heading,
  a long derivation (display maths over ``LONG_LINES`` lines) or a long code cell starts a
  sub-slide (below the slide, reached with the down arrow);
- the set-up cells (every code cell before the first section, and any calling
  ``setup_notebook``) are skipped;
- an exercise's solution cell (nbgrader ``solution: true``) is a fragment: the task shows
  first, the solution (and its check cell) on the next key press;
- each section (a level-2 heading other than the summary) gets a speaker-notes cell right after
  its heading cell: the section's "What to remember" points, or its opening sentence when it
  has none. The cell is collapsed in JupyterLab (``jupyter.source_hidden``; running it, as
  Run All does, expands it) and is never a slide.

It is idempotent, and it does not overwrite what a person changed: the slide type the tool set
is recorded in ``metadata.course.slide_type`` and a notes cell records a digest of the text it
was given; a slide type or notes text that differs from the record was edited by hand and is
kept unless ``--force``. Notebooks are written atomically and only when something changed.

``build`` writes one reveal.js deck per notebook with nbconvert's slides exporter, reveal.js
and MathJax copied from the npm packages of ``web/package.json`` (``make web-assets``) into
``<out>/_static/``: the decks open with no network.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import itertools
import re
import sys
from pathlib import Path

import nbformat

from helpers.course import cells as cell_kinds
from helpers.course.notebook_io import read_notebook, write_atomically

SLIDE_TYPES = ("slide", "subslide", "fragment", "skip", "notes", "-")
LONG_LINES = 12  # a markdown derivation longer than this gets a screen of its own
LONG_CODE_LINES = 20  # so does a code cell this long
NOTES_KEY = "notes_for"  # metadata.course.<this>: the heading a generated notes cell belongs to
_FENCE = re.compile(r"^\s*(```|~~~)")
_REMEMBER = re.compile(r"\*\*What to remember:?\*\*:?\s*(.+?)(?:\n\s*\n|\n#|\Z)", re.S | re.I)


def _headings(source: str):
    """Yield ``(line number, level, text)`` of each Markdown heading line (not in code fences)."""
    fenced = False
    for number, line in enumerate(source.splitlines()):
        if _FENCE.match(line):
            fenced = not fenced
            continue
        match = None if fenced else re.match(r"^(#{1,6})\s+(.+?)\s*#*\s*$", line)
        if match:
            yield number, len(match.group(1)), match.group(2).strip()


def heading_levels(source: str) -> list[tuple[int, str]]:
    """Return ``(level, text)`` of each Markdown heading line in ``source`` (not in code fences)."""
    return [(level, text) for _, level, text in _headings(source)]


def heading_line_numbers(source: str, max_level: int = 3) -> list[int]:
    """Indices of the lines of ``source`` that are headings of level ≤ ``max_level``."""
    return [number for number, level, _ in _headings(source) if level <= max_level]


def _heading_cell_id(heading_line: str, taken: set) -> str:
    base = "sec-" + hashlib.sha1(heading_line.strip().encode()).hexdigest()[:10]
    cell_id, n = base, 1
    while cell_id in taken:
        n += 1
        cell_id = f"{base}-{n}"
    return cell_id


def split_at_headings(nb) -> list[str]:
    """Split markdown cells so that every heading (levels 1–3) starts a cell (in place).

    The text before a heading stays in the original cell (same id and metadata); each heading
    and what follows it up to the next heading becomes a new cell, with a stable id derived from
    the heading line (``sec-…``) and the original's metadata minus its slide type, which
    :func:`annotate` then gives by rule. Returns a message per cell left whole because it holds
    nbgrader metadata.
    """
    kept, cells = [], []
    taken = {c.get("id") for c in nb.cells}
    for cell in nb.cells:
        starts = [] if cell.cell_type != "markdown" else heading_line_numbers(cell.source)
        lines = cell.source.splitlines()
        # a heading after blank lines only already starts its cell
        starts = [n for n in starts if any(line.strip() for line in lines[:n])]
        if not starts:
            cells.append(cell)
            continue
        if "nbgrader" in cell.metadata:
            kept.append(
                f"cell {cell.get('id')!r}: a heading not on its first line; nbgrader "
                "cell left whole"
            )
            cells.append(cell)
            continue
        bounds = [0, *starts, len(lines)]
        pieces = ["\n".join(lines[a:b]).strip("\n") for a, b in itertools.pairwise(bounds)]
        cell.source = pieces[0]
        cells.append(cell)
        for piece in pieces[1:]:
            new = nbformat.v4.new_markdown_cell(piece)
            new.id = _heading_cell_id(piece.splitlines()[0], taken)
            taken.add(new.id)
            new.metadata = copy.deepcopy(cell.metadata)
            new.metadata.pop("slideshow", None)
            new.metadata.get("course", {}).pop("slide_type", None)
            if not new.metadata.get("course", True):
                del new.metadata["course"]
            cells.append(new)
    nb.cells = cells
    return kept


_is_solution = cell_kinds.is_solution
_is_check = cell_kinds.is_check
_is_notes_cell = cell_kinds.is_notes


def slide_type_for(cell, *, before_first_section: bool, after_solution: bool = False) -> str:
    """The slide type the rules give ``cell`` (see the module docstring)."""
    if _is_notes_cell(cell):
        return "notes"
    lines = cell.source.count("\n") + 1 if cell.source else 0
    if cell.cell_type == "code":
        if before_first_section or "setup_notebook(" in cell.source:
            return "skip"
        if _is_solution(cell):
            return "fragment"
        if _is_check(cell) and after_solution:
            return "-"  # stays with its solution's fragment
        return "subslide" if lines > LONG_CODE_LINES else "-"
    if cell.cell_type != "markdown":
        return "skip"
    levels = [level for level, _ in heading_levels(cell.source)]
    if any(level <= 2 for level in levels):
        return "slide"
    if 3 in levels:
        return "subslide"
    if lines > LONG_LINES and re.search(r"\$\$|\\begin\{", cell.source):
        return "subslide"
    return "-"


def _split_at_sections(source: str) -> list[tuple[str | None, str]]:
    """Split ``source`` at level-1/2 heading lines: ``[(heading or None, text after it), ...]``."""
    pieces, heading, lines, fenced = [], None, [], False
    for line in source.splitlines():
        if _FENCE.match(line):
            fenced = not fenced
        match = None if fenced else re.match(r"^#{1,2}\s+(.+?)\s*$", line)
        if match:
            pieces.append((heading, "\n".join(lines)))
            heading, lines = match.group(1).strip(), []
        else:
            lines.append(line)
    pieces.append((heading, "\n".join(lines)))
    return pieces


def section_notes(cells, start: int, heading: str) -> str:
    """Speaker notes for the section ``heading`` (a level-2 heading in ``cells[start]``)."""
    pieces = _split_at_sections(cells[start].source)
    position = next(i for i, (h, _) in enumerate(pieces) if h == heading)
    parts = [pieces[position][1]]
    if position == len(pieces) - 1:  # the section goes on into the next cells
        for cell in cells[start + 1 :]:
            if cell.cell_type != "markdown" or _is_notes_cell(cell):
                continue
            following = _split_at_sections(cell.source)
            parts.append(following[0][1])
            if len(following) > 1:
                break
    # hints (<details> blocks) belong to the exercise, not to what the section says
    section = re.sub(r"<details>.*?</details>", "", "\n\n".join(parts), flags=re.S)
    remember = [m.group(1).strip() for m in _REMEMBER.finditer(section)]
    if remember:
        body = "\n".join(f"- {' '.join(point.split())}" for point in remember)
        return f"**Speaker notes · {heading}** — what to remember:\n\n{body}\n"
    section = re.sub(r"^\s*(```|~~~).*?^\s*\1[^\n]*$", "", section, flags=re.M | re.S)
    prose = [p.strip() for p in re.split(r"\n\s*\n", section) if p.strip()]
    prose = [p for p in prose if not p.startswith(("$$", "|", "```", "<", "!", "#", "-", "*"))]
    opening = re.split(r"(?<=[.!?])\s", prose[0], maxsplit=1)[0] if prose else heading
    opening = " ".join(re.sub(r"\$\$.*?\$\$", "…", opening, flags=re.S).split())
    return f"**Speaker notes · {heading}** — where this section goes:\n\n- {opening}\n"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _notes_cell(heading: str, text: str):
    cell = nbformat.v4.new_markdown_cell(text)
    cell.id = "notes-" + hashlib.sha1(heading.encode()).hexdigest()[:12]
    cell.metadata = {
        "course": {NOTES_KEY: heading, "notes_digest": _digest(text), "slide_type": "notes"},
        "jupyter": {"source_hidden": True},
        "slideshow": {"slide_type": "notes"},
    }
    return cell


def annotate(nb, *, force: bool = False) -> list[str]:
    """Give ``nb``'s cells slide metadata and notes cells by rule (in place).

    Returns a list of messages about what was kept because a person had changed it (empty when
    everything follows the rules). With ``force``, those are overwritten too.
    """
    if not isinstance(nb, nbformat.NotebookNode) or "cells" not in nb:
        raise TypeError(f"nb must be a notebook (nbformat.NotebookNode), got {type(nb).__name__}")
    kept = split_at_headings(nb)
    existing = {c.metadata["course"][NOTES_KEY]: c for c in nb.cells if _is_notes_cell(c)}
    cells = [c for c in nb.cells if not _is_notes_cell(c)]
    # Notes cells: one after each section's heading cell.
    with_notes, wanted = [], set()
    for index, cell in enumerate(cells):
        with_notes.append(cell)
        if cell.cell_type != "markdown":
            continue
        for level, heading in heading_levels(cell.source):
            if level != 2 or heading.lower().startswith("summary"):
                continue
            text = section_notes(cells, index, heading)
            old = existing.get(heading)
            wanted.add(heading)
            if old is not None and old.source != text and not force:
                recorded = old.metadata["course"].get("notes_digest")
                if recorded != _digest(old.source):  # edited by a person: keep it
                    kept.append(f"notes of '{heading}' were edited; kept (--force replaces them)")
                    with_notes.append(old)
                    continue
            with_notes.append(_notes_cell(heading, text) if old is None else old)
            if old is not None and old.source != text:
                old.source = text
                old.metadata["course"]["notes_digest"] = _digest(text)
    for heading, old in existing.items():
        if heading not in wanted:
            if old.metadata["course"].get("notes_digest") == _digest(old.source) or force:
                continue  # the section is gone: drop its generated notes
            kept.append(f"notes of the removed section '{heading}' were edited; kept")
            with_notes.append(old)
    nb.cells = with_notes
    # Slide types.
    first_section = next(
        (
            i
            for i, c in enumerate(nb.cells)
            if c.cell_type == "markdown" and any(lv == 2 for lv, _ in heading_levels(c.source))
        ),
        len(nb.cells),
    )
    previous_solution = False
    for index, cell in enumerate(nb.cells):
        rule = slide_type_for(
            cell, before_first_section=index < first_section, after_solution=previous_solution
        )
        if cell.cell_type == "code":
            previous_solution = _is_solution(cell)
        current = cell.metadata.get("slideshow", {}).get("slide_type")
        recorded = cell.metadata.get("course", {}).get("slide_type")
        if current is not None and current != recorded and current != rule and not force:
            first_line = cell.source.splitlines()[0][:50] if cell.source else "(empty)"
            kept.append(f"cell {index} ({first_line!r}): slide type {current!r} set by hand; kept")
            continue
        cell.metadata.setdefault("slideshow", {})["slide_type"] = rule
        cell.metadata.setdefault("course", {})["slide_type"] = rule
    return kept


def annotate_files(paths, *, force: bool = False) -> int:
    """Annotate each notebook file; print what changed and what was kept.

    Returns 1 if a file changed on disk while it was annotated (it is then not written), else 0.
    """
    status = 0
    for path in map(Path, paths):
        before = path.read_bytes()
        nb = read_notebook(path)
        original = nbformat.writes(nb)
        kept = annotate(nb, force=force)
        for message in kept:
            print(f"  ! {path.name}: {message}")
        if nbformat.writes(nb) == original:
            print(f"= {path} (already annotated)")
            continue
        if path.read_bytes() != before:
            print(f"✗ {path}: changed on disk meanwhile; not written (run it again)")
            status = 1
            continue
        write_atomically(nb, path)
        print(f"✓ {path}")
    return status


def build_slides(paths, out_dir, *, node_modules=None) -> list[Path]:
    """Write one reveal.js deck per notebook (``<stem>.slides.html``) and ``index.html``.

    The notebooks need slide metadata (``annotate``); reveal.js, MathJax and the widget
    renderer are copied into ``out_dir/_static`` from ``node_modules`` (see
    :mod:`helpers.course.web_assets`). Explorer outputs show their static picture.
    """
    from nbconvert import SlidesExporter

    from helpers.course import web_assets
    from helpers.course.html_export import check_paths, write_pages

    paths = check_paths(paths)
    out_dir = Path(out_dir)
    urls = web_assets.install(out_dir, node_modules=node_modules, reveal=True)
    exporter = SlidesExporter(
        template_name="reveal",
        reveal_url_prefix=urls["reveal"],
        reveal_theme="white",
        reveal_transition="none",
        reveal_number="c/t",
        **web_assets.exporter_settings(urls, slides=True),
    )
    return write_pages(
        exporter, paths, out_dir, suffix=".slides.html", what="slides", prepare=hide_plumbing
    )


_PLUMBING = re.compile(r"^\s*(# NBVAL_\w+|### (BEGIN|END) (SOLUTION|HIDDEN TESTS))\s*$")


def hide_plumbing(nb):
    """Drop, from code shown on slides, the lines that are for tools, not for the audience:
    nbgrader's ``### BEGIN/END SOLUTION`` markers and nbval's ``# NBVAL_…`` marks with the
    ``# Why: …`` comment that follows them. Returns ``nb`` (changed in place)."""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        kept, after_mark, why, sentence_ended = [], False, False, False
        for line in cell.source.splitlines():
            text = line.lstrip()
            if _PLUMBING.match(line):
                after_mark = text.startswith("# NBVAL_")
                continue
            # the mark's "# Why: …" sentence, over comment lines until one ends with a full stop
            why = (after_mark and text.startswith("# Why:")) or (
                why and text.startswith("#") and not sentence_ended
            )
            after_mark = False
            if why:
                sentence_ended = text.rstrip().endswith(".")
            else:
                kept.append(line)
        cell.source = "\n".join(kept)
    return nb


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    annotate_parser = commands.add_parser("annotate", help="add slide metadata and notes cells")
    annotate_parser.add_argument("notebooks", nargs="+", type=Path)
    annotate_parser.add_argument("--force", action="store_true", help="overwrite hand edits")
    build_parser = commands.add_parser("build", help="write the reveal.js decks")
    build_parser.add_argument("notebooks", nargs="+", type=Path)
    build_parser.add_argument("--out", type=Path, default=Path("build/slides"))
    build_parser.add_argument("--node-modules", type=Path, default=None)
    args = parser.parse_args(argv)
    missing = [str(p) for p in args.notebooks if not p.is_file()]
    if missing:
        parser.error(f"no such notebook: {', '.join(missing)}")
    if args.command == "annotate":
        return annotate_files(args.notebooks, force=args.force)
    from helpers.course.html_export import report_pages

    return report_pages(build_slides, args.notebooks, args.out, node_modules=args.node_modules)


if __name__ == "__main__":
    sys.exit(main())
