import html
import re
from urllib.parse import unquote

import nbformat
import pytest
from test_notebook_structure import NOTEBOOKS

from helpers.course import cells
from helpers.course.html_export import (
    NEEDS_KERNEL,
    WIDGET_VIEW,
    export_html,
    index_page,
    link_pattern,
    main,
    notebook_title,
    reading_view,
    static_widgets,
    student_page,
)
from helpers.course.slides import is_setup_cell
from helpers.quiz import load_quiz


def test_links_to_known_notebooks_become_pages_and_keep_their_anchor():
    pattern = link_pattern({"01_tuning", "09_quiz"})
    text = (
        "[a](01_tuning.ipynb) [b](09_quiz.ipynb#2.-Why) <a href='01_tuning.ipynb'>c</a> "
        "[d](other.ipynb) [e](x01_tuning.ipynb) [f](../01_tuning.ipynb) 01_tuning.ipynbx"
    )
    assert pattern.sub(r"\1.html", text) == (
        "[a](01_tuning.html) [b](09_quiz.html#2.-Why) <a href='01_tuning.html'>c</a> "
        "[d](other.ipynb) [e](x01_tuning.ipynb) [f](../01_tuning.ipynb) 01_tuning.ipynbx"
    )


def test_the_title_is_the_first_level_one_heading():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("# not a heading"),
        nbformat.v4.new_markdown_cell("Intro\n\n## Sub\n\n# 01 · The tuning process\n"),
    ]
    assert notebook_title(nb, "fallback") == "01 · The tuning process"
    assert notebook_title(nbformat.v4.new_notebook(), "fallback") == "fallback"


def test_the_index_escapes_titles():
    page = index_page([("01_a.html", "α < β & γ")])
    assert '<a href="01_a.html">α &lt; β &amp; γ</a>' in page


@pytest.fixture(scope="module")
def pages(tmp_path_factory, web_assets):
    """`make html`'s pages for students (the default) and for instructors, written once."""
    built = {}
    for audience in ("student", "instructor"):
        folder = tmp_path_factory.mktemp(audience)
        built[audience] = (folder, export_html(NOTEBOOKS, folder, audience=audience))
    return built


def visible_text(page):
    """A page's text without its tags (highlighted code is split into spans)."""
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def code_text(page):
    """The text of a page's code cells (the prose may quote code, a hint even a solution's)."""
    cells = re.findall(r'<div class="highlight hl-ipython3">(.*?)</div>', page, re.S)
    return visible_text("\n".join(cells))


def solution_lines(nb):
    """Lines of code found only inside the solution regions of ``nb``, and long enough to say
    something of their own (a demo cell may use ``with tf.GradientTape() as tape:`` too)."""
    inside_lines, outside_lines = [], set()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        inside = False
        for line in cell.source.splitlines():
            if line.strip() in ("### BEGIN SOLUTION", "### END SOLUTION"):
                inside = line.strip().startswith("### BEGIN")
            elif inside:
                inside_lines.append(line.strip())
            else:
                outside_lines.add(line.strip())
    return [
        line
        for line in inside_lines
        if len(line) > 25 and not line.startswith("#") and line not in outside_lines
    ]


@pytest.mark.slow
def test_every_notebook_becomes_a_page_linked_from_the_index(pages):
    folder, written = pages["student"]
    for page in written:
        text = page.read_text()
        # every picture has alternative text (nbconvert writes this placeholder otherwise)
        assert "No description has been provided" not in text, page.name
        assert "Speaker notes" not in text, f"{page.name}: the speaker notes are for the slides"
        # Nothing is loaded from the web: every script and style sheet is beside the pages.
        loads = re.findall(r'<(?:script|link|img)[^>]*\b(?:src|href)="([^"]*)"', text)
        remote = [url for url in loads if re.match(r"(https?:)?//", url)]
        assert not remote, f"{page.name} loads {remote}"
        for url in {u.split("?")[0] for u in loads if not u.startswith(("data:", "#"))}:
            assert (folder / url).is_file(), f"{page.name} loads {url}: not written"
    assert [p.name for p in written] == [f"{p.stem}.html" for p in NOTEBOOKS] + ["index.html"]
    index = (folder / "index.html").read_text()
    assert re.findall(r'href="([^"]+)"', index) == [f"{p.stem}.html" for p in NOTEBOOKS]
    first = (folder / "00_index.html").read_text()
    assert 'href="01_tuning_process.html"' in first
    assert not re.search(r"href=\"[^\"]*\.ipynb", first)
    # The quiz links to headings by JupyterLab's anchors; the pages must carry the same ids.
    # nbconvert percent-encodes non-ASCII ids; browsers match a fragment either way.
    ids = {
        p.stem: {unquote(i) for i in re.findall(r'id="([^"]+)"', p.read_text())} for p in written
    }
    for question in load_quiz():
        notebook, anchor = question.link.split("#")
        assert anchor in ids[notebook.removesuffix(".ipynb")], question.id


@pytest.mark.slow
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_student_pages_hold_no_solution_and_instructor_pages_all_of_them(pages, notebook):
    nb = nbformat.read(notebook, as_version=4)
    student = (pages["student"][0] / f"{notebook.stem}.html").read_text()
    instructor = (pages["instructor"][0] / f"{notebook.stem}.html").read_text()
    seen_by_student = visible_text(student)
    code_for_student = code_text(student)
    solutions = solution_lines(nb)
    for line in solutions:
        assert line not in code_for_student, f"{notebook.name}: a solution on the student page"
        assert line in code_text(instructor), f"{notebook.name}: a solution missing for instructors"
    assert "BEGIN SOLUTION" not in code_for_student and "HIDDEN TESTS" not in code_for_student
    assert ("### BEGIN SOLUTION" in code_text(instructor)) == bool(solutions)
    # a check's output would tell a student their unsolved exercise passes
    assert not re.search(r"✓ \w+: \d+/\d+ checks passed", seen_by_student)
    assert ("YOUR CODE HERE" in code_for_student) == bool(solutions)
    setup = [c.source for i, c in enumerate(nb.cells) if is_setup_cell(nb, i)]
    assert setup, f"{notebook.name}: no set-up cell found"
    for page in (student, instructor):
        code = code_text(page)
        assert "setup_notebook(" not in code  # the set-up cells are left out
        assert not [cell for cell in setup if cell.strip() in code]
        assert not re.search(r"In\s*\[\d*\]:", visible_text(page))  # no prompts
    # a table of contents: every section, linked
    sections = [
        text
        for cell in nb.cells
        if cell.cell_type == "markdown"
        for line in cell.source.splitlines()
        if (text := line[3:].strip()) and line.startswith("## ")
    ]
    contents = re.search(r'<nav[^>]*class="course-contents".*?</nav>', student, re.S)
    assert contents and len(re.findall(r"<li><a href=\"#", contents.group(0))) == len(sections)
    # widgets need a kernel: none is left for a widget manager to draw
    assert "application/vnd.jupyter.widget-state+json" not in student
    explorers = sum("figure_explorer(" in c.source for c in nb.cells if c.cell_type == "code")
    assert student.count(html.escape(NEEDS_KERNEL["explorer"])) >= min(explorers, 1)


@pytest.mark.slow
def test_the_quiz_page_reveals_each_answer_in_the_page(pages):
    quiz = (pages["student"][0] / "09_self_check_quiz.html").read_text()
    questions = load_quiz()
    assert quiz.count("<details><summary>Show the answer</summary>") == len(questions)
    for question in questions:
        assert f'data-question="{question.id}"' in quiz  # the page's HTML, reserialized
    # a cell that settles a question shows its output folded, as the answers are (reviewer 3:
    # section 5's printed shares and ẑ gave four answers away to a reader scrolling down)
    nb = nbformat.read(NOTEBOOKS[-1], as_version=4)
    settling = [c for c in nb.cells if cells.quiz_answers(c)]
    folded = re.findall(r'<details class="course-answer">(.*?)</details>', quiz, re.S)
    assert len(folded) == len(settling) >= 4
    outside = visible_text(
        re.sub(r'<details class="course-answer">.*?</details>', "", quiz, flags=re.S)
    )
    for cell, inside in zip(settling, folded, strict=True):
        printed = next(o.text for o in cell.outputs if o.output_type == "stream").splitlines()[0]
        assert printed in visible_text(inside) and printed not in outside


def stored_widget(nb, model, children=()):
    """Add a widget model (and its children) to ``nb``'s stored state; return its view output."""
    state = nb.metadata.setdefault("widgets", {}).setdefault(
        "application/vnd.jupyter.widget-state+json", {"state": {}, "version_major": 2}
    )["state"]
    ids = [f"m{len(state) + i}" for i in range(len(children) + 1)]
    state[ids[0]] = {
        "model_name": model,
        "state": {"children": [f"IPY_MODEL_{i}" for i in ids[1:]]},
    }
    for model_id, child in zip(ids[1:], children, strict=True):
        state[model_id] = {"model_name": child, "state": {}}
    return nbformat.v4.new_output(
        "execute_result",
        data={WIDGET_VIEW: {"model_id": ids[0]}, "text/plain": "VBox(…)"},
        execution_count=1,
    )


def test_widgets_become_what_a_page_without_a_kernel_can_show():
    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell
    explorer = stored_widget(nb, "VBoxModel", ["IntSliderModel", "ImageModel"])
    explorer["data"]["image/png"] = "iVBORw0KGgo="
    question = load_quiz()[0]
    nb.cells = [
        code("figure_explorer(draw, controls)", outputs=[explorer]),
        code(f'quiz.show("{question.id}")', outputs=[stored_widget(nb, "VBoxModel")]),
        code(
            "for t in tqdm(trials): run(t)",
            outputs=[
                stored_widget(nb, "HBoxModel", ["HTMLModel", "FloatProgressModel", "HTMLModel"])
            ],
        ),
        code("quiz.summary", outputs=[stored_widget(nb, "HTMLModel")]),
    ]
    static_widgets(nb, quiz_answer="details", suffix=".html")
    assert "widgets" not in nb.metadata
    picture, note = nb.cells[0].outputs
    assert "image/png" in picture["data"] and WIDGET_VIEW not in picture["data"]
    assert NEEDS_KERNEL["explorer"] in note["data"]["text/plain"]
    (static,) = nb.cells[1].outputs
    assert f"data-question='{question.id}'" in static["data"]["text/html"]
    assert nb.cells[2].outputs == []  # a finished progress bar says nothing
    assert [o["data"]["text/plain"] for o in nb.cells[3].outputs] == [NEEDS_KERNEL["widget"]]


def test_a_student_page_is_the_student_copy_with_the_other_cells_outputs():
    nb = nbformat.v4.new_notebook()
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    printed = [nbformat.v4.new_output("stream", text="42\n")]
    nb.cells = [
        md("# 05 · Softmax\n\n**Time:** 20 minutes."),
        code("import helpers", outputs=printed),  # set-up: before the first section
        md("## 1. The softmax"),
        code(
            "def softmax(z):\n    ### BEGIN SOLUTION\n    return z\n    ### END SOLUTION",
            outputs=printed,
        ),
        code("check_softmax(softmax)", outputs=[nbformat.v4.new_output("stream", text="✓\n")]),
        code("print(softmax(42))", outputs=printed),
        md("## Summary"),
    ]
    nb.cells[3].metadata["nbgrader"] = {
        "solution": True,
        "grade": False,
        "grade_id": "softmax",
        "locked": False,
        "schema_version": 3,
        "task": False,
    }
    nb.cells[4].metadata["nbgrader"] = {
        "solution": False,
        "grade": True,
        "points": 1,
        "grade_id": "check_softmax",
        "locked": True,
        "schema_version": 3,
        "task": False,
    }
    page = reading_view(student_page(nb))
    assert [(c.source.splitlines()[0][:20], len(c.get("outputs", []))) for c in page.cells] == [
        ("# 05 · Softmax", 0),
        ('<nav class="course-c', 0),  # the table of contents
        ("## 1. The softmax", 0),
        ("def softmax(z):", 0),  # a stub, no output
        ("check_softmax(softma", 0),  # no check's verdict
        ("print(softmax(42))", 1),  # the stored output of the instructor's run
        ("## Summary", 0),
    ]
    assert "YOUR CODE HERE" in page.cells[3].source


@pytest.mark.parametrize(
    ("paths", "error", "message"),
    [
        ("notebooks/01.ipynb", TypeError, "paths must be a list"),
        ([], ValueError, "at least one notebook"),
        (["notes.txt"], ValueError, r"must be \.ipynb files, got notes\.txt"),
        (["missing.ipynb"], FileNotFoundError, "notebook not found"),
    ],
)
def test_bad_paths_are_named(tmp_path, paths, error, message):
    with pytest.raises(error, match=message):
        export_html(paths, tmp_path)


def test_the_command_reports_a_missing_notebook_without_a_traceback(tmp_path, capsys):
    assert main(["--out", str(tmp_path), str(tmp_path / "gone.ipynb")]) == 1
    assert "notebook not found" in capsys.readouterr().err
