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
- the set-up cells (every code cell before the first section, and the cell marked as the
  notebook's set-up, :func:`helpers.course.cells.is_setup`) are skipped;
- an exercise's solution cell (nbgrader ``solution: true``) is a fragment: the task shows
  first, the solution (and its check cell) on the next key press;
- each section (a level-2 heading other than the summary) gets a speaker-notes cell right after
  its heading cell, holding the template of :mod:`helpers.course.speaker_notes` until a person
  writes the notes (never text copied from the slide). The cell is collapsed in JupyterLab
  (``jupyter.source_hidden``; running it, as Run All does, expands it) and is never a slide.

It is idempotent, and it does not overwrite what a person changed: the slide type the tool set
is recorded in ``metadata.course.slide_type`` and a notes cell records a digest of the template
it was given; a slide type that differs from the record was set by hand and is kept unless
``--force``; notes that differ from their template were written by hand and are always kept.
Notebooks are written atomically and only when something changed.

``build`` writes one reveal.js deck per notebook, its :func:`lecture_view` (one row of slides,
prose, formulas and outputs, code only where a cell is tagged ``slide-show-code``, an agenda),
with reveal.js, MathJax and the deck's own script and style copied from the npm packages of
``web/package.json`` (``make web-assets``) and ``helpers/course/static/`` into
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
from helpers.course import speaker_notes
from helpers.course.cells import NOTES_DIGEST, NOTES_FOR
from helpers.course.notebook_io import read_notebook, write_atomically
from helpers.course.speaker_notes import digest, written_by_hand

LONG_LINES = 12  # a markdown derivation longer than this gets a screen of its own
LONG_CODE_LINES = 20  # so does a code cell this long
_FENCE = re.compile(r"^\s*(```|~~~)")


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


def _first_section(cells) -> int:
    """Index of the first cell with a level-2 heading (``len(cells)`` if none)."""
    return next(
        (
            i
            for i, c in enumerate(cells)
            if c.cell_type == "markdown" and any(lv == 2 for lv, _ in heading_levels(c.source))
        ),
        len(cells),
    )


def is_setup_cell(nb, index: int) -> bool:
    """Whether ``nb.cells[index]`` is a set-up cell: a code cell before the first section (the
    guard that says how to install ``helpers``), or one marked as the notebook's set-up
    (:func:`helpers.course.cells.is_setup`). Slides skip them, pages leave them out."""
    cell = nb.cells[index]
    return cell.cell_type == "code" and (
        index < _first_section(nb.cells) or cell_kinds.is_setup(cell)
    )


def slide_type_for(cell, *, before_first_section: bool, after_solution: bool = False) -> str:
    """The slide type the rules give ``cell`` (see the module docstring)."""
    if _is_notes_cell(cell):
        return "notes"
    lines = cell.source.count("\n") + 1 if cell.source else 0
    if cell.cell_type == "code":
        if before_first_section or cell_kinds.is_setup(cell):
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


def _notes_cell(heading: str):
    text = speaker_notes.TEMPLATE.format(heading=heading)
    cell = nbformat.v4.new_markdown_cell(text)
    cell.id = "notes-" + hashlib.sha1(heading.encode()).hexdigest()[:12]
    cell.metadata = {
        "course": {NOTES_FOR: heading, NOTES_DIGEST: digest(text), "slide_type": "notes"},
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
    existing = {cell_kinds.notes_for(c): c for c in nb.cells if _is_notes_cell(c)}
    cells = [c for c in nb.cells if not _is_notes_cell(c)]
    # Notes cells: one after each section's heading cell, the template until a person writes it.
    with_notes, wanted = [], set()
    for cell in cells:
        with_notes.append(cell)
        if cell.cell_type != "markdown":
            continue
        for level, heading in heading_levels(cell.source):
            if level != 2 or heading.lower().startswith("summary"):
                continue
            wanted.add(heading)
            old = existing.get(heading)
            if old is not None and written_by_hand(old):
                with_notes.append(old)
                continue
            template = _notes_cell(heading)
            if old is not None:  # the template, or text an earlier version derived from the slide
                old.source = template.source
                old.metadata["course"][NOTES_DIGEST] = digest(template.source)
            with_notes.append(template if old is None else old)
    for heading, old in existing.items():
        if heading not in wanted and written_by_hand(old):
            kept.append(f"notes of the removed section '{heading}' were written by hand; kept")
            with_notes.append(old)
    nb.cells = with_notes
    # Slide types.
    first_section = _first_section(nb.cells)
    previous_solution = False
    for index, cell in enumerate(nb.cells):
        rule = slide_type_for(
            cell, before_first_section=index < first_section, after_solution=previous_solution
        )
        if cell.cell_type == "code":
            previous_solution = _is_solution(cell)
        current = cell_kinds.slide_type(cell)
        recorded = cell_kinds.recorded_slide_type(cell)
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


# --- the decks: a lecture view of each notebook ------------------------------------------------

SHOW_CODE_TAG = "slide-show-code"  # a code cell whose source is shown on its slide
THEMES = {"white": "light", "black": "dark", "night": "dark"}  # reveal.js theme → JupyterLab's


def build_slides(paths, out_dir, *, node_modules=None, theme: str = "white") -> list[Path]:
    """Write one reveal.js deck per notebook (``<stem>.slides.html``) and ``index.html``.

    Each deck is the notebook's :func:`lecture_view`; reveal.js, MathJax and the deck's own
    script (which splits a slide taller than the screen, see ``web_assets``) are copied into
    ``out_dir/_static`` from ``node_modules`` (see :mod:`helpers.course.web_assets`).
    ``theme`` is a reveal.js theme of :data:`THEMES`: ``"black"`` for a dark room, its figures
    on a light card.
    """
    from nbconvert import SlidesExporter

    from helpers.course import web_assets
    from helpers.course.html_export import check_paths, write_pages

    if theme not in THEMES:
        raise ValueError(f"theme must be one of {', '.join(THEMES)}, got {theme!r}")
    paths = check_paths(paths)
    out_dir = Path(out_dir)
    urls = web_assets.install(out_dir, node_modules=node_modules, reveal=True)
    exporter = SlidesExporter(
        template_name="reveal",
        reveal_url_prefix=urls["reveal"],
        reveal_theme=theme,
        reveal_transition="none",
        reveal_number="c/t",
        theme=THEMES[theme],
        **web_assets.exporter_settings(urls, slides=True),
    )
    return write_pages(
        exporter, paths, out_dir, suffix=".slides.html", what="slides", prepare=lecture_view
    )


def lecture_view(nb):
    """Turn ``nb`` into the deck an instructor presents (in place; returns ``nb``).

    - Slides in one row, so that →, Space and PageDown step through all of them: a slide
      starts at each heading of levels 1–3 (and where a person set a slide type by hand).
    - The prose, the formulas and the outputs; a code cell's source only where the cell is
      tagged ``slide-show-code``, and then without its asserts and test-only lines
      (:func:`presentable_code`). Set-up cells, check cells and cells with nothing to show
      are left out; a shown solution appears on a key press (a fragment).
    - An agenda slide after the title: the sections with their minutes (from the notes).
    - Only speaker notes written by hand (``helpers.course.speaker_notes``).
    - Widgets as their pictures or static forms (``html_export.static_widgets``).
    """
    from helpers.course.html_export import static_widgets

    annotate(nb)  # the rules of today, on this copy; what a person set is kept
    reads = {id(c): names_read(c.source) for c in nb.cells if c.cell_type == "code"}
    cells = []
    for cell in nb.cells:
        kind = cell_kinds.slide_type(cell) or "-"
        if _is_notes_cell(cell):
            if written_by_hand(cell):
                cells.append(cell)
            continue
        if kind == "skip":
            continue
        set_by_hand = kind != cell_kinds.recorded_slide_type(cell)
        if cell.cell_type == "code":
            elsewhere = set().union(*(r for key, r in reads.items() if key != id(cell)))
            kind = _code_on_slide(cell, set_by_hand and kind in ("slide", "subslide"), elsewhere)
            if kind is None:
                continue
        elif cell.cell_type == "markdown":
            starts = heading_line_numbers(cell.source.strip()) == [0]
            kind = "slide" if starts or (set_by_hand and kind in ("slide", "subslide")) else "-"
        else:
            continue
        cell.metadata.setdefault("slideshow", {})["slide_type"] = kind
        cells.append(cell)
    nb.cells = cells
    if nb.cells:
        nb.cells.insert(1, agenda_cell(nb))
    return static_widgets(nb, quiz_answer="fragment")


def _code_on_slide(cell, starts_slide: bool, read_elsewhere=frozenset()):
    """The slide type of a code cell in the lecture view, or None when nothing of it shows.
    ``read_elsewhere``: the names other cells read (their assignments are not test-only)."""
    shown = SHOW_CODE_TAG in cell_kinds.tags(cell)
    if shown:
        cell.source = presentable_code(cell.source, keep=read_elsewhere)
        shown = bool(cell.source.strip())
    if not shown:
        cell.metadata["transient"] = {"remove_source": True}
        if _is_check(cell) or not cell.get("outputs"):
            return None
    if starts_slide:
        return "slide"
    return "fragment" if _is_solution(cell) and shown else "-"


def agenda_cell(nb):
    """The agenda slide: the notebook's sections with their minutes and the stated time."""
    plan = speaker_notes.section_minutes(nb)
    stated = speaker_notes.stated_minutes(nb)
    lines = ["## Agenda", ""]
    for heading, minutes in plan:
        number = re.match(r"^(\d+)\.\s+", heading)  # "1. Why …": a list item, not a list
        text = heading if number is None else f"{number.group(1)}\\. {heading[number.end() :]}"
        lines.append(f"- {text}" + (f" · {minutes} min" if minutes is not None else ""))
    if stated is not None:
        known = [m for _, m in plan if m is not None]
        total = f" ({sum(known)} planned above)" if known and len(known) == len(plan) else ""
        optional = speaker_notes.stated_optional_minutes(nb)
        extra = f", plus {optional} for the optional part" if optional else ""
        lines += ["", f"**Time:** {stated} minutes{extra}{total}."]
    cell = nbformat.v4.new_markdown_cell("\n".join(lines))
    cell.id = "course-agenda"
    cell.metadata = {"slideshow": {"slide_type": "slide"}, "tags": ["course-agenda"]}
    return cell


_PLUMBING = re.compile(r"^\s*(# NBVAL_\w+|### (BEGIN|END) (SOLUTION|HIDDEN TESTS))\s*$")
_HIDDEN_TESTS = re.compile(
    r"^[ \t]*### BEGIN HIDDEN TESTS[ \t]*\n.*?^[ \t]*### END HIDDEN TESTS[ \t]*(\n|$)", re.M | re.S
)
# A comment that speaks to the tests, not to the audience: "the text below relies on these…"
_TEST_COMMENT = re.compile(
    r"\b(text|prose)\b[^.;]*\b(relies|rely|reads|says|quotes)\b|\bthe asserts?\b|\bnbval\b", re.I
)


def presentable_code(source: str, keep=frozenset()) -> str:
    """Return ``source`` without the lines that are for tools and tests, not for an audience.

    Dropped: nbgrader's solution markers and hidden-test regions, nbval's ``# NBVAL_…`` marks
    with the ``# Why: …`` sentence after them, every ``assert`` statement (all its lines), the
    test-only lines that feed them (:func:`test_only_lines`; ``keep`` names variables that other
    cells use, so their assignments stay), each with the comment right above it, and comments
    addressed to the tests ("the text below relies on these"). Blank lines left in a row are
    merged.
    """
    source = _HIDDEN_TESTS.sub("", source)
    lines = source.splitlines()
    drop = set(test_only_lines(source, keep))
    after_mark, why, sentence_ended = False, False, False
    for number, line in enumerate(lines):
        text = line.lstrip()
        if _PLUMBING.match(line):
            drop.add(number)
            after_mark = text.startswith("# NBVAL_")
            continue
        # the mark's "# Why: …" sentence, over comment lines until one ends with a full stop
        why = (after_mark and text.startswith("# Why:")) or (
            why and text.startswith("#") and not sentence_ended
        )
        after_mark = False
        if why:
            sentence_ended = text.rstrip().endswith(".")
            drop.add(number)
    # comment blocks: above a dropped statement, or addressed to the tests
    number = 0
    while number < len(lines):
        if not lines[number].lstrip().startswith("#"):
            number += 1
            continue
        end = number
        while end < len(lines) and lines[end].lstrip().startswith("#"):
            end += 1
        block = range(number, end)
        following = next((n for n in range(end, len(lines)) if lines[n].strip()), None)
        if _TEST_COMMENT.search(" ".join(lines[n] for n in block)) or following in drop:
            drop.update(block)
        number = end
    kept, blank = [], True
    for number, line in enumerate(lines):
        if number in drop or (not line.strip() and blank):
            continue
        blank = not line.strip()
        kept.append(line)
    return "\n".join(kept).rstrip()


def test_only_lines(source: str, keep=frozenset()) -> list[int]:
    """Line indices (from 0) of the statements of ``source`` that only serve its asserts.

    That is every ``assert``; an assignment right before such a statement whose variables are
    read by nothing but such statements (and are not in ``keep``, the names other cells read);
    and a loop, ``if`` or ``with`` whose body is all such statements. A computation with a
    statement of its own in between (a print, a timing) is part of the lesson and stays.
    IPython magics are allowed; source that is not Python falls back on the lines that start an
    assert.
    """
    import ast

    tree = _parse(source)
    if tree is None:
        return [n for n, line in enumerate(source.splitlines()) if re.match(r"\s*assert\b", line)]
    statements = [node for node in ast.walk(tree) if isinstance(node, ast.stmt)]
    following = {}  # each statement -> the next one in its block
    for node in ast.walk(tree):
        for field in ("body", "orelse", "finalbody"):
            block = getattr(node, field, None)
            if isinstance(block, list):
                following.update(itertools.pairwise(block))
    enclosing = {}  # each name read -> the statements it sits in
    for statement in statements:
        for node in ast.walk(statement):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                enclosing.setdefault(node, []).append(statement)
    dropped = {node for node in statements if isinstance(node, ast.Assert)}
    changed = True
    while changed:
        live = {
            name.id
            for name, around in enclosing.items()
            if not any(statement in dropped for statement in around)
        }
        changed = False
        for statement in statements:
            if statement in dropped:
                continue
            if isinstance(statement, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
                targets = getattr(statement, "targets", None) or [statement.target]
                parts = [n for t in targets for n in ast.walk(t)]
                names = {n.id for n in parts if isinstance(n, ast.Name)}
                test_only = (
                    following.get(statement) in dropped
                    and all(isinstance(n, (ast.Name, ast.Tuple, ast.expr_context)) for n in parts)
                    and not names & (live | keep)
                )
            elif isinstance(statement, (ast.For, ast.While, ast.If, ast.With)):
                test_only = all(
                    s in dropped for s in statement.body + getattr(statement, "orelse", [])
                )
            else:
                test_only = False
            if test_only:
                dropped.add(statement)
                changed = True
    return sorted({n for node in dropped for n in range(node.lineno - 1, node.end_lineno)})


def names_read(source: str) -> set:
    """The variable names ``source`` reads (empty when it is not Python)."""
    import ast

    tree = _parse(source)
    return {
        node.id
        for node in ast.walk(tree or ast.Module(body=[], type_ignores=[]))
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
    }


def _parse(source: str):
    """The syntax tree of a code cell's source with IPython magics masked, or None."""
    import ast

    try:
        return ast.parse(re.sub(r"^([ \t]*)[%!].*$", r"\1pass", source, flags=re.M))
    except SyntaxError:
        return None


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
    build_parser.add_argument("--theme", choices=sorted(THEMES), default="white")
    args = parser.parse_args(argv)
    missing = [str(p) for p in args.notebooks if not p.is_file()]
    if missing:
        parser.error(f"no such notebook: {', '.join(missing)}")
    if args.command == "annotate":
        return annotate_files(args.notebooks, force=args.force)
    from helpers.course.html_export import report_pages

    return report_pages(
        build_slides, args.notebooks, args.out, node_modules=args.node_modules, theme=args.theme
    )


if __name__ == "__main__":
    sys.exit(main())
