"""Static HTML of the notebooks with their stored outputs, pages to read the week without a kernel.

``make html`` runs ``python -m helpers.course.html_export --out build/html notebooks/*.ipynb``:
one page per notebook (nbconvert's ``lab`` template, pictures embedded) and an ``index.html``
listing them. Links from one notebook to another are rewritten from ``.ipynb`` to ``.html`` so
they work between the pages; anchors are kept (nbconvert and JupyterLab name headings alike).

Pages are for an audience (``--audience``, ``make html AUDIENCE=instructor``):

- ``student`` (the default): each page is made from the notebook's student copy
  (:func:`helpers.course.release.student_version`, in memory: nothing is written next to a
  person's ``student/`` folder), so it holds no solution, no solution marker and no check's
  output; the outputs of every other cell are the instructor notebook's stored ones.
- ``instructor``: the notebooks as they are, solutions included.

Either way a page opens with a table of contents, reads in a column of about 75 characters,
and leaves out the set-up cells, the In/Out prompts and the speaker notes. Widgets need a
kernel: an explorer shows its stored picture and says it runs in JupyterLab, the quiz shows its
questions with each answer and explanation in a ``<details>`` box, any other widget says where
it runs. Every image has alternative text.

The pages work with no network: MathJax (formulas) is copied from its npm package into
``<out>/_static/`` (``make web-assets`` installs it; :mod:`helpers.course.web_assets`).
"""

from __future__ import annotations

import argparse
import copy
import html
import os
import re
import sys
from pathlib import Path

import nbformat

from helpers.course import cells
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
AUDIENCES = ("student", "instructor")
NEEDS_KERNEL = {
    "explorer": "Runs in JupyterLab: open the notebook there to move the controls. "
    "This is the picture they start from.",
    "widget": "Runs in JupyterLab: open the notebook there to use it.",
}


def _note_output(kind: str) -> dict:
    text = NEEDS_KERNEL[kind]
    return nbformat.v4.new_output(
        "display_data",
        data={
            "text/html": f'<p class="course-needs-kernel">{html.escape(text)}</p>',
            "text/plain": text,
        },
    )


def _shown_question(source: str, ids) -> str | None:
    """The quiz question id of a cell that is ``<quiz>.show("<id>")``, else None."""
    import ast

    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Expr):
        return None
    call = tree.body[0].value
    if (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and call.func.attr == "show"
        and len(call.args) == 1
        and isinstance(call.args[0], ast.Constant)
        and call.args[0].value in ids
    ):
        return call.args[0].value
    return None


def _is_progress_bar(nb, model_id) -> bool:
    """Whether the stored widget ``model_id`` is a progress bar (tqdm's: a box holding one)."""
    state = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    models = state.get("state", {})
    model = models.get(model_id, {})
    names = [model.get("model_name")] + [
        models.get(child.removeprefix("IPY_MODEL_"), {}).get("model_name")
        for child in model.get("state", {}).get("children", [])
    ]
    return any(name in ("FloatProgressModel", "IntProgressModel") for name in names)


def static_widgets(nb, *, quiz_answer: str = "details", suffix=None):
    """Replace every stored widget by what a viewer without a kernel can show (in place).

    An explorer (a widget stored with its picture) keeps the picture and says that it runs in
    JupyterLab; a quiz question (``quiz.show("<id>")``) becomes its static form
    (:func:`helpers.quiz.static_question_html`: ``quiz_answer`` ``"details"`` for a page,
    ``"fragment"`` for a slide; ``suffix`` for its link); a finished progress bar goes; any
    other widget says where it runs. The stored widget state goes too: no page loads the widget
    manager for nothing.
    """
    from helpers.quiz import load_quiz, static_question_html

    questions = None
    for cell in nb.cells:
        outputs = []
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_VIEW not in data:
                outputs.append(output)
                continue
            view = data.pop(WIDGET_VIEW)
            if _is_progress_bar(nb, view.get("model_id")):
                continue
            if "image/png" in data:
                outputs += [output, _note_output("explorer")]
                continue
            if questions is None and ".show(" in cell.source:
                questions = {q.id: q for q in load_quiz()}
            question_id = _shown_question(cell.source, questions or {})
            if question_id is None:
                outputs.append(_note_output("widget"))
                continue
            page = static_question_html(questions[question_id], answer=quiz_answer, suffix=suffix)
            cell.metadata["transient"] = {"remove_source": True}  # the question stands alone
            outputs.append(
                nbformat.v4.new_output(
                    "display_data",
                    data={"text/html": page, "text/plain": questions[question_id].question},
                )
            )
        if cell.cell_type == "code":
            cell.outputs = outputs
    nb.metadata.pop("widgets", None)
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
        "slides": "Every notebook of the week as a slide deck with its stored outputs. "
        "<kbd>→</kbd>, <kbd>Space</kbd> or <kbd>PageDown</kbd> (a clicker) step through every "
        "slide and fragment, <kbd>←</kbd> or <kbd>PageUp</kbd> go back, <kbd>S</kbd> opens the "
        "speaker window, <kbd>F</kbd> full screen. To run the code during a walkthrough, open "
        "the notebook in JupyterLab (<code>make lab</code>, <i>View → Presentation Mode</i>).",
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


def export_html(paths, out_dir, *, node_modules=None, audience: str = "student") -> list[Path]:
    """Write one HTML page per notebook in ``paths`` and ``index.html`` into ``out_dir``.

    ``audience`` is ``"student"`` (pages from the student copies: no solutions) or
    ``"instructor"`` (the notebooks as they are). The scripts the pages load are copied from
    ``node_modules`` (default ``build/web/node_modules``, see :mod:`helpers.course.web_assets`)
    into ``out_dir/_static``. Returns the written files, index last. Raises
    ``TypeError``/``ValueError`` naming a bad argument, ``FileNotFoundError`` for a missing
    notebook or package.
    """
    from nbconvert import HTMLExporter

    from helpers.course import web_assets

    if audience not in AUDIENCES:
        raise ValueError(f"audience must be one of {', '.join(AUDIENCES)}, got {audience!r}")
    paths = check_paths(paths)
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"notebook not found: {', '.join(missing)}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    urls = web_assets.install(out_dir, node_modules=node_modules)

    exporter = HTMLExporter(
        template_name=TEMPLATE,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        **web_assets.exporter_settings(urls),
    )

    def prepare(nb):
        if audience == "student":
            nb = student_page(nb)
        return reading_view(nb)

    return write_pages(exporter, paths, out_dir, suffix=".html", what="pages", prepare=prepare)


def student_page(nb):
    """The student copy of ``nb`` (``make student``'s release code) with the stored outputs
    of every cell but the exercises and their checks; without the closing progress cells,
    which need a kernel."""
    from helpers.course.release import student_version

    outputs = {
        cell.get("id"): copy.deepcopy(cell.outputs)
        for cell in nb.cells
        if cell.cell_type == "code" and not cells.is_solution(cell) and not cells.is_check(cell)
    }
    student = student_version(nb)
    student.metadata["widgets"] = copy.deepcopy(nb.metadata.get("widgets", {}))
    student.cells = [c for c in student.cells if not cells.is_progress(c)]
    for cell in student.cells:
        if cell.cell_type == "code" and cell.get("id") in outputs:
            cell.outputs = outputs[cell.get("id")]
    return student


def reading_view(nb):
    """What a page shows of ``nb`` (in place; returns nb): no set-up cells, no speaker notes,
    widgets in their static forms, and a table of contents after the title."""
    from helpers.course.slides import is_setup_cell

    nb.cells = [
        c for i, c in enumerate(nb.cells) if not cells.is_notes(c) and not is_setup_cell(nb, i)
    ]
    static_widgets(nb, quiz_answer="details", suffix=".html")
    if nb.cells:
        nb.cells.insert(1, contents_cell(nb))
    return nb


def contents_cell(nb):
    """A markdown cell listing the notebook's sections (level-2 headings), each a link."""
    from helpers.course.slides import heading_levels
    from helpers.quiz import heading_anchor

    items = [
        f'<li><a href="#{html.escape(heading_anchor(text))}">{html.escape(_plain(text))}</a></li>'
        for cell in nb.cells
        if cell.cell_type == "markdown"
        for level, text in heading_levels(cell.source)
        if level == 2
    ]
    body = "\n".join(items)
    cell = nbformat.v4.new_markdown_cell(
        f'<nav class="course-contents" aria-label="Contents">\n<p><b>Contents</b></p>\n'
        f"<ul>\n{body}\n</ul>\n</nav>"
    )
    cell.id = "course-contents"
    return cell


def _plain(heading: str) -> str:
    """A heading's text without its Markdown code and emphasis marks."""
    return re.sub(r"[`*]", "", heading)


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
        nb = rewrite_links(read_notebook(path), names, suffix)
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
    parser.add_argument(
        "--audience",
        choices=AUDIENCES,
        default="student",
        help="student: pages from the student copies, no solutions (default); instructor: all",
    )
    args = parser.parse_args(argv)
    return report_pages(
        export_html,
        args.notebooks,
        args.out,
        node_modules=args.node_modules,
        audience=args.audience,
    )


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
