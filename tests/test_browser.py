"""JupyterLab in a real browser: every notebook opens from the index, runs and its widgets respond.

Run with ``make test-browser`` (``make test`` runs it too). It needs Debian's Chromium at
``/usr/bin/chromium`` (``apt-get install chromium``; another path through ``DNN_WEEK3_CHROMIUM``)
and is skipped without it, unless ``DNN_WEEK3_REQUIRE_BROWSER=1`` (set by ``.ci/run``) makes a
missing browser a failure. Screenshots go to ``DNN_WEEK3_SCREENSHOTS`` (default
``build/screenshots``).

JupyterLab runs the student copies (``make student``), written to a temporary folder with every
solution put back but one per notebook (``UNSOLVED``): its check fails, and *Run All* must go on
past it, every later cell run without error on the course's version of that function, and the
closing progress cell must name it. Running them through the UI and saving never touches the
stored outputs nbval replays.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest
from browser_support import (
    CHROMIUM_ARGS,
    RUN_MARKER,
    JupyterLab,
    kill_marked_processes,
    marked_processes,
    serve_folder,
)
from test_notebook_structure import NOTEBOOKS

from helpers.course import cells

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path(os.environ.get("DNN_WEEK3_CHROMIUM", "/usr/bin/chromium"))
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
RUN_TIMEOUT_MS = 240_000  # 08 takes about a minute on two cores; generous for a loaded CI box

# The exercise each notebook's student copy leaves unsolved: one whose function later cells use.
UNSOLVED = {
    "01_tuning_process": "random_search",
    "02_appropriate_scale": "sample_log_uniform",
    "03_batchnorm_from_scratch": "batchnorm_forward",
    "04_batchnorm_test_time": "update_running_averages",
    "05_softmax_regression": "softmax",
    "06_tensorflow_quadratic": "quadratic_cost",
    "07_tensorflow_digits": "build_model",
    "08_tuning_in_practice": "suggest_hyperparameters",
}

pytestmark = pytest.mark.browser


def screenshot_dir() -> Path:
    folder = Path(os.environ.get("DNN_WEEK3_SCREENSHOTS") or ROOT / "build" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def chromium_path():
    if not CHROMIUM.exists():
        message = (
            f"no browser at {CHROMIUM}: `apt-get install chromium` (or set DNN_WEEK3_CHROMIUM)"
        )
        if os.environ.get("DNN_WEEK3_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture(scope="module")
def run_marker():
    """Tag every process this module starts, so teardown (and the kill test) can find them all."""
    marker = os.environ.setdefault(RUN_MARKER, uuid.uuid4().hex)
    # pytest runs finalizers on Ctrl-C but not on SIGTERM; make the two the same.
    previous = signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    yield marker
    signal.signal(signal.SIGTERM, previous)
    kill_marked_processes(marker, exclude={os.getpid()})


def _raise_keyboard_interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def student_copy(path: Path):
    """``make student``'s copy of ``path`` with every solution put back but ``UNSOLVED``'s."""
    from helpers.course.release import student_version

    instructor = nbformat.read(path, as_version=4)
    student = student_version(instructor, path.name)
    solutions = {_grade_id(c): c.source for c in instructor.cells if _is_solution(c)}
    for cell in student.cells:
        if _is_solution(cell) and _grade_id(cell) != UNSOLVED.get(path.stem):
            cell.source = solutions[_grade_id(cell)]
    return student


def _grade_id(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def _is_solution(cell):
    return cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution")


@pytest.fixture(scope="module")
def lab(run_marker, tmp_path_factory):
    folder = tmp_path_factory.mktemp("lab")
    (folder / "notebooks").mkdir()
    for path in NOTEBOOKS:
        nbformat.write(student_copy(path), folder / "notebooks" / path.name)
    with JupyterLab(ROOT / ".venv" / "bin" / "jupyter", folder) as server:
        yield server


@pytest.fixture(scope="module")
def browser(chromium_path, run_marker):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium_path), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser, lab):
    context = browser.new_context(viewport={"width": 1280, "height": 1400})
    context.set_default_timeout(60_000)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.js_errors = errors
    yield page
    context.close()
    lab.shut_down_kernels()


# --- driving JupyterLab -------------------------------------------------------------------------


def open_index(page, lab):
    page.goto(lab.url("lab/tree/notebooks/00_index.ipynb", reset=True))
    wait_for_current_notebook(page, "00_index.ipynb")


def wait_for_current_notebook(page, name):
    tab = page.locator(".jp-mod-current.lm-TabBar-tab .lm-TabBar-tabLabel", has_text=name)
    tab.first.wait_for()
    panel = current_panel(page)
    panel.locator(".jp-Cell").first.wait_for()
    # The status bar names the current notebook's kernel; "Idle" once it has started.
    page.locator(".jp-StatusBar-Widget", has_text="Idle").first.wait_for()
    return panel


def current_panel(page):
    return page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")


def menu(page, top, item):
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(rf"^{top}$")).click()
    label = re.compile(rf"^{re.escape(item)}$")
    page.locator(".lm-Menu-item:not(.lm-mod-disabled) .lm-Menu-itemLabel", has_text=label).click()


def wait_for_kernel(lab, path: str, timeout: float = 90):
    """Wait until the server has an idle kernel for the notebook at ``path`` (Run All sent to a
    kernel that is still starting can be dropped)."""
    deadline = time.monotonic() + timeout
    while True:
        states = {s["path"]: s["kernel"]["execution_state"] for s in lab.api("GET", "sessions")}
        if states.get(path) == "idle":
            return
        assert time.monotonic() < deadline, f"no idle kernel for {path} after {timeout:.0f} s"
        time.sleep(0.2)


def run_all_cells(page, n_code_cells):
    """Clear the stored outputs, run every cell from the Run menu, and wait for the kernel."""
    menu(page, "Edit", "Clear Outputs of All Cells")
    menu(page, "Run", "Run All Cells")
    # A queued or running cell shows [*]; none left and as many numbers as code cells = done.
    page.wait_for_function(
        """n => {
            const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
            const prompts = [...panel.querySelectorAll('.jp-CodeCell .jp-InputPrompt')];
            const status = panel.querySelector('.jp-Notebook-ExecutionIndicator');
            return prompts.filter(p => /\\[\\d+\\]/.test(p.textContent)).length === n
                && !prompts.some(p => p.textContent.includes('*'))
                && status && status.dataset.status === 'idle';
        }""",
        arg=n_code_cells,
        timeout=RUN_TIMEOUT_MS,
        polling=250,
    )


def save(page, path: Path):
    before = path.stat().st_mtime_ns
    menu(page, "File", "Save Notebook")
    deadline = time.monotonic() + 30
    while path.stat().st_mtime_ns == before:
        assert time.monotonic() < deadline, f"{path.name} was not saved within 30 s"
        time.sleep(0.1)
    page.locator(".jp-mod-current.lm-TabBar-tab.jp-mod-dirty").wait_for(state="detached")
    return nbformat.read(path, as_version=4)


def error_outputs(nb):
    return [
        (index, f"{out.ename}: {out.evalue}")
        for index, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        for out in cell.outputs
        if out.output_type == "error"
    ]


def stream_text(cell):
    return "".join(out.get("text", "") for out in cell.outputs if out.output_type == "stream")


def check_the_lesson_kept_running(ran, notebook: str):
    """The unsolved exercise's check failed and said the course's version stands in; every
    other cell ran without error; a later cell used that version; the progress cell names it
    and every other exercise as passing."""
    from helpers.checks import EXERCISES

    errors = error_outputs(ran)
    unsolved = UNSOLVED.get(notebook)
    if unsolved is None:
        assert not errors, f"raised: {errors}"
        return
    check = next(i for i, c in enumerate(ran.cells) if _grade_id(c) == f"check_{unsolved}")
    assert [index for index, _ in errors] == [check], f"only check_{unsolved} may fail: {errors}"
    assert f"until {unsolved} passes its check" in errors[0][1]
    later = [stream_text(c) for c in ran.cells[check + 1 :] if c.cell_type == "code"]
    assert any(f"({unsolved}: the course's version" in text for text in later), (
        f"no cell after check_{unsolved} says it used the course's version"
    )
    progress = stream_text(ran.cells[-1])
    assert f"✗ {unsolved} — not passing yet" in progress, progress
    solved = [e.function for e in EXERCISES.values() if e.notebook == notebook]
    solved.remove(unsolved)
    assert all(f"  ✓ {name}\n" in progress for name in solved), progress


def widget_outputs(nb):
    return [
        out.data[WIDGET_VIEW]["model_id"]
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        if WIDGET_VIEW in out.get("data", {})
    ]


def count_explorers(nb):
    """How many displayed widgets are figure explorers: a box whose children include an Image."""
    saved = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    state = saved.get("state", {})
    models = {model_id: model["model_name"] for model_id, model in state.items()}
    return sum(
        state[view]["model_name"] == "VBoxModel"
        and any(
            models.get(child.removeprefix("IPY_MODEL_")) == "ImageModel"
            for child in state[view]["state"]["children"]
        )
        for view in widget_outputs(nb)
        if view in state
    )


def wait_until_changed(read, before, what, timeout=15):
    deadline = time.monotonic() + timeout
    while True:
        after = read()
        if after != before:
            return after
        assert time.monotonic() < deadline, f"{what}: the displayed output did not change"
        time.sleep(0.2)


# --- the explorers and the quiz -----------------------------------------------------------------


def exercise_explorer(explorer, label, screenshots):
    """Change each control of a figure_explorer and check the picture is redrawn each time."""
    image = explorer.locator("img").last
    picture = image.screenshot
    controls = 0
    for handle in explorer.locator(".noUi-handle").all():
        before = picture()
        handle.focus()
        handle.press("ArrowLeft" if _at_end(handle) else "ArrowRight")
        wait_until_changed(picture, before, f"{label}: slider {handle.get_attribute('aria-label')}")
        controls += 1
    for select in explorer.locator("select").all():
        before = picture()
        options = select.locator("option").all_text_contents()
        current = select.evaluate("s => s.options[s.selectedIndex].text")
        select.select_option(label=next(o for o in options if o != current))
        wait_until_changed(picture, before, f"{label}: drop-down {current!r}")
        controls += 1
    assert controls, f"{label}: no slider or drop-down found"
    explorer.screenshot(path=screenshots / f"{label}.png")


def _at_end(handle):
    value, high = handle.get_attribute("aria-valuenow"), handle.get_attribute("aria-valuemax")
    return value is not None and float(value) >= float(high)


def answer_quiz(page, panel):
    """Tick each question's first option (type 0 for a prediction) and Check: the feedback must be
    what ``grade`` says.

    Returns each question's link to the section that teaches it: ``{id: (link, question)}``.
    """
    from helpers.quiz import grade, load_quiz

    by_prompt = {q.question.replace("`", ""): q for q in load_quiz()}  # `code` shows as code
    widgets = panel.locator(".jp-OutputArea-output .widget-vbox:has(button)")
    summary = panel.locator(".jp-OutputArea-output .widget-html", has_text="Score:").last
    assert widgets.count() == len(by_prompt), f"{len(by_prompt)} questions, {widgets.count()} shown"
    links = {}
    for i in range(widgets.count()):
        widget = widgets.nth(i)
        widget.scroll_into_view_if_needed()
        # textContent, not innerText: a cell off screen is not rendered (content-visibility)
        prompt = " ".join(widget.locator(".widget-html").first.text_content().split())
        question = by_prompt[re.split(r" \((check all|predict a number)", prompt)[0]]
        if question.kind == "number":  # a prediction: typed, then checked
            widget.locator("input").first.fill("0")
            expected = grade(question, 0.0).message
        else:
            widget.locator("input[type=radio], input[type=checkbox]").first.check()
            expected = grade(question, {0}).message
        widget.locator("button", has_text="Check").click()
        feedback = widget.locator(".widget-html").last
        link = widget.locator(".widget-output a")  # an output: JupyterLab's link handling
        link.wait_for()
        assert feedback.text_content().startswith(expected), (question.id, feedback.text_content())
        assert link.text_content() == f"See {question.notebook[:2]}, {question.section}."
        page.wait_for_function(
            "([el, k]) => el.textContent.includes(`(${k} of`)",
            arg=[summary.element_handle(), i + 1],
        )
        links[question.id] = (link, question)
    return links


def follow_link_to_its_section(page, link, question):
    """Click a quiz link once: JupyterLab opens the notebook (no page reload) at the heading."""
    from helpers.quiz import heading_anchor

    tab = page.locator(".lm-TabBar-tab", has_text=question.notebook)
    assert tab.count() == 0, f"{question.notebook} is open already: not a first click"
    page.locator(".lm-TabBar-tab", has_text="09_self_check_quiz.ipynb").click()
    link.scroll_into_view_if_needed()
    page.evaluate("window.__beforeTheLink = true")
    link.click()
    wait_for_current_notebook(page, question.notebook)
    assert page.evaluate("window.__beforeTheLink === true"), "the page reloaded"
    # In view: the heading lies inside the notebook's visible area, which has scrolled down.
    page.wait_for_function(
        """id => {
            const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
            const heading = [...panel.querySelectorAll('[data-jupyter-id]')]
                .find(h => h.dataset.jupyterId === id);
            const scroller = panel.querySelector('.jp-WindowedPanel-outer');
            if (!heading || !scroller || scroller.scrollTop === 0) return false;
            const box = heading.getBoundingClientRect(), view = scroller.getBoundingClientRect();
            return box.top >= view.top - 1 && box.bottom <= view.bottom + 1;
        }""",
        arg=heading_anchor(question.section),
        timeout=15_000,
    )


# --- the tests ----------------------------------------------------------------------------------


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_opens_from_the_index_and_runs(page, lab, notebook):
    stored = nbformat.read(notebook, as_version=4)  # the instructor's, with its widget state
    n_code = sum(cell.cell_type == "code" for cell in student_copy(notebook).cells)
    opened = time.monotonic()
    open_index(page, lab)
    if notebook.name != "00_index.ipynb":
        link = current_panel(page).locator(f".jp-RenderedMarkdown a[href*='/{notebook.name}']")
        assert link.count(), f"00_index has no link to {notebook.name}"
        link.first.click()
    panel = wait_for_current_notebook(page, notebook.name)
    wait_for_kernel(lab, f"notebooks/{notebook.name}")

    started = time.monotonic()
    run_all_cells(page, n_code)
    seconds = time.monotonic() - started
    ran = save(page, lab.root / "notebooks" / notebook.name)

    check_the_lesson_kept_running(ran, notebook.stem)
    counts = [cell.execution_count for cell in ran.cells if cell.cell_type == "code"]
    assert counts == list(range(1, n_code + 1)), f"cells did not run in order once: {counts}"
    assert not panel.get_by_text("Error displaying widget").count()
    views = panel.locator(".jp-OutputArea-output:has(.jupyter-widgets)")
    assert views.count() == len(widget_outputs(ran)), "a widget output did not render"
    assert not page.js_errors, page.js_errors

    screenshots = screenshot_dir()
    page.screenshot(path=screenshots / f"{notebook.stem}.png")
    explorers = count_explorers(stored)
    found = panel.locator(".jp-OutputArea-output .widget-vbox:has(img)")
    assert found.count() == explorers, f"{explorers} explorers stored, {found.count()} shown"
    for i in range(found.count()):
        exercise_explorer(found.nth(i), f"{notebook.stem}-explorer-{i + 1}", screenshots)

    if notebook.name == "09_self_check_quiz.ipynb":
        links = answer_quiz(page, panel)
        page.screenshot(path=screenshots / f"{notebook.stem}-answered.png")
        # a heading in ASCII and one in Greek (μ, σ²), each in a notebook not yet open
        for question_id in ("epoch-cost", "bn-test-time"):
            follow_link_to_its_section(page, *links[question_id])
            page.screenshot(path=screenshots / f"{notebook.stem}-link-{question_id}.png")
    total = time.monotonic() - opened
    print(f"{notebook.name}: ran in {seconds:.1f} s, {total:.1f} s with the UI")


LADDER_NOTEBOOK = "02_appropriate_scale"  # numpy only: its cells run in seconds


def check_output_text(cell) -> str:
    """What a cell's outputs show (textContent: the cell may be off screen)."""
    return cell.locator(".jp-OutputArea-output").all_text_contents()


def test_a_check_failing_again_climbs_its_hint_ladder_in_jupyterlab(page, lab):
    """Run an unsolved exercise and its check three times: the first failure gives the
    diagnosis, each same failure again one rung more; what shows is the message alone."""
    unsolved = UNSOLVED[LADDER_NOTEBOOK]
    copy = nbformat.read(lab.root / "notebooks" / f"{LADDER_NOTEBOOK}.ipynb", as_version=4)
    exercise = next(i for i, c in enumerate(copy.cells) if _grade_id(c) == unsolved)
    check = next(i for i, c in enumerate(copy.cells) if _grade_id(c) == f"check_{unsolved}")
    assert check == exercise + 1
    page.goto(lab.url(f"lab/tree/notebooks/{LADDER_NOTEBOOK}.ipynb", reset=True))
    panel = wait_for_current_notebook(page, f"{LADDER_NOTEBOOK}.ipynb")
    wait_for_kernel(lab, f"notebooks/{LADDER_NOTEBOOK}.ipynb")
    menu(page, "Edit", "Clear Outputs of All Cells")
    cells = panel.locator(".jp-Cell")
    cells.nth(exercise).locator(".jp-InputPrompt").click()
    menu(page, "Run", "Run All Above Selected Cell")
    shown = []
    for rung in (
        "  hint: replace `raise NotImplementedError()`",
        "  hint 2 of 4 (",
        "  hint 3 of 4 (",
    ):
        cells.nth(exercise).locator(".jp-InputPrompt").click()
        page.keyboard.press("Shift+Enter")  # the exercise cell, as after an edit
        page.keyboard.press("Shift+Enter")  # its check
        page.wait_for_function(
            "([cell, text, n]) => cell.textContent.includes(text)"
            " && cell.querySelectorAll('.jp-OutputArea-output').length > 0"
            " && !cell.querySelector('.jp-InputPrompt').textContent.includes('*')",
            arg=[cells.nth(check).element_handle(), rung.strip(), len(shown)],
            timeout=60_000,
        )
        text = "\n".join(check_output_text(cells.nth(check)))
        assert rung.strip() in text, text
        assert "Traceback" not in text and "File " not in text and "run_cases" not in text
        assert text.startswith(f'✗ {unsolved} — case "'), text
        shown.append(text)
    assert shown[0] != shown[1] != shown[2]
    assert "hint 2 of 4" not in shown[0].split("(stuck?")[0]
    assert "hint 3 of 4 (" not in shown[1] and "hint 2 of 4 (" in shown[2]
    page.screenshot(path=screenshot_dir() / "hint-ladder.png")
    assert not page.js_errors, page.js_errors


# --- make html's pages and make slides' decks, served over HTTP on 127.0.0.1 --------------------


@pytest.fixture(scope="module")
def html_site(run_marker, tmp_path_factory):
    """`make html`'s pages (for students), built afresh and served on 127.0.0.1."""
    from helpers.course.html_export import export_html

    folder = tmp_path_factory.mktemp("html")
    export_html(NOTEBOOKS, folder, node_modules=ROOT / "build" / "web" / "node_modules")
    with serve_folder(folder) as url:
        yield url


@pytest.fixture(scope="module")
def slides_site(run_marker, tmp_path_factory):
    """`make slides`' decks, built afresh from the notebooks, served on 127.0.0.1:
    ``(base URL, folder)``."""
    from helpers.course.slides import build_slides

    folder = tmp_path_factory.mktemp("slides")
    build_slides(NOTEBOOKS, folder, node_modules=ROOT / "build" / "web" / "node_modules")
    with serve_folder(folder) as url:
        yield url, folder


def offline_context(browser, **kwargs):
    """A browser context that lets only requests to 127.0.0.1 through, and lists the others."""
    context = browser.new_context(**kwargs)
    context.left_the_machine = []

    def route(route):
        host = urlsplit(route.request.url).hostname
        if route.request.url.startswith("data:") or host == "127.0.0.1":
            route.continue_()
        else:
            context.left_the_machine.append(route.request.url)
            route.abort()

    context.route("**/*", route)
    return context


def wait_for_mathjax(page, timeout=30_000):
    """Wait until MathJax (2.7, from the pages' _static folder) has typeset the page."""
    page.wait_for_function("window.MathJax && MathJax.isReady === true", timeout=timeout)
    page.evaluate("() => new Promise(done => MathJax.Hub.Queue(done))")


RAW_MATH = """root => {
    // text a reader sees, without MathJax's own script elements holding the TeX
    const copy = root.cloneNode(true);
    copy.querySelectorAll('script, .MathJax_Preview, pre, code').forEach(e => e.remove());
    return copy.textContent;
}"""


def assert_formulas_typeset(page, root_selector, label):
    roots = page.locator(root_selector)
    text = "".join(roots.nth(i).evaluate(RAW_MATH) for i in range(roots.count()))
    assert "$$" not in text and "\\begin{" not in text, f"{label}: a formula shows as TeX"
    for raw in re.findall(r"(?<![\w$])\$[^$\s][^$]{0,80}\$(?![\w$])", text):
        assert not re.search(r"[\\^_{}]", raw), f"{label}: inline formula not typeset: {raw}"
    return page.locator(".MathJax_CHTML").count()


def _has_math(nb):
    return any("$" in c.source for c in nb.cells if c.cell_type == "markdown")


# What a reader measures on a page: a long paragraph's width in characters of its own font.
READING_COLUMN = """() => {
    const p = [...document.querySelectorAll('.jp-RenderedMarkdown p')]
        .filter(p => p.textContent.length > 300)[0];
    if (!p) return null;
    const context = document.createElement('canvas').getContext('2d');
    context.font = getComputedStyle(p).font;
    const average = context.measureText(p.textContent).width / p.textContent.length;
    return p.getBoundingClientRect().width / average;
}"""


def test_the_static_pages_work_offline_and_every_link_resolves(browser, html_site):
    context = offline_context(browser, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        response = page.goto(html_site + "index.html")
        assert response.ok
        pages = page.locator("a").evaluate_all("links => links.map(a => a.href)")
        assert len(pages) == len(NOTEBOOKS)
        ids, links = {}, {}  # per page: the ids of its elements, its links within the site
        screenshots = screenshot_dir()
        for url, notebook in zip(pages, NOTEBOOKS, strict=True):
            response = page.goto(url)
            assert response.ok, f"{url}: HTTP {response.status}"
            assert page.locator(".jp-Notebook").count(), f"{url} is not a notebook page"
            stored = nbformat.read(notebook, as_version=4)
            wait_for_mathjax(page)
            typeset = assert_formulas_typeset(page, ".jp-RenderedMarkdown", notebook.name)
            assert typeset or not _has_math(stored), f"{notebook.name}: no formula typeset"
            # A cell's output that settles a quiz question is folded until the reader opens it.
            folded = page.locator("details.course-answer")
            marked = sum(bool(cells.quiz_answers(c)) for c in stored.cells)
            assert folded.count() == marked, f"{notebook.name}: {marked} settling cells"
            for i in range(folded.count()):
                box = folded.nth(i)
                assert not box.locator(".jp-OutputArea-output").first.is_visible()
                box.locator("summary").click()
                assert box.locator(".jp-OutputArea-output").first.is_visible()
            # Every stored picture (explorers' static pictures among them) is shown, with alt text.
            pictures = sum(
                "image/png" in o.get("data", {})
                for c in stored.cells
                if c.cell_type == "code"
                for o in c.outputs
            )
            images = page.locator(".jp-OutputArea-output img")
            assert images.count() == pictures, f"{notebook.name}: {pictures} pictures stored"
            for i in range(images.count()):
                image = images.nth(i)
                assert image.evaluate("img => img.complete && img.naturalWidth > 0")
                assert image.get_attribute("alt"), f"{notebook.name}: image {i} has no alt"
            # A reader's page: contents first, a column of about 75 characters, no prompts.
            assert page.locator("nav.course-contents a").count() >= 2, notebook.name
            characters = page.evaluate(READING_COLUMN)
            assert characters is None or 65 <= characters <= 85, f"{notebook.name}: {characters}"
            prompts = page.locator(".jp-InputPrompt, .jp-OutputPrompt").evaluate_all(
                "ps => ps.filter(p => p.checkVisibility() && p.textContent.trim())"
            )
            assert not prompts, f"{notebook.name}: In/Out prompts shown"
            # Kernel-only widgets say so where they stand; the quiz answers in the page.
            explorers = count_explorers(stored)
            notes = page.locator(".course-needs-kernel", has_text="Runs in JupyterLab")
            assert notes.count() >= explorers, f"{notebook.name}: an explorer says nothing"
            if notebook.name == "09_self_check_quiz.ipynb":
                reveal_a_quiz_answer(page)
            page.screenshot(path=screenshots / f"html-{notebook.stem}.png")
            ids[url] = set(page.locator("[id]").evaluate_all("els => els.map(e => e.id)"))
            links[url] = set(
                page.locator("a[href]").evaluate_all(
                    "links => links.map(a => a.href).filter(h => h.startsWith(location.origin))"
                )
            )
        between = 0
        for url, targets in links.items():
            for link in sorted(targets):
                target, _, fragment = link.partition("#")
                if target not in ids:  # not one of the pages: it must at least be served
                    response = page.request.get(target)
                    assert response.ok, f"{url} links to {link}: HTTP {response.status}"
                    assert not fragment, f"{url} links to an anchor outside the pages: {link}"
                    continue
                between += target != url
                if fragment:  # ids may be stored percent-encoded; browsers match both
                    assert {fragment, unquote(fragment)} & ids[target], f"{url}: no anchor {link}"
        assert between >= len(NOTEBOOKS), f"only {between} links between pages were checked"
        assert context.left_the_machine == [], context.left_the_machine
    finally:
        context.close()


def reveal_a_quiz_answer(page):
    """The quiz works without a kernel: opening a question's answer shows its explanation."""
    from helpers.quiz import load_quiz

    questions = {q.id: q for q in load_quiz()}
    assert page.locator(".course-quiz").count() == len(questions)
    first = page.locator(".course-quiz").first
    explanation = first.locator("details p").first
    assert not explanation.is_visible()
    first.locator("summary").click()
    assert explanation.is_visible()
    question = questions[first.get_attribute("data-question")]
    assert question.explanation[:40] in " ".join(explanation.text_content().split())


# --- every slide of every deck, measured ------------------------------------------------------

KEYS_FORWARD = ("ArrowRight", "Space", "PageDown")  # PageDown: what a clicker sends
KEYS_BACK = ("ArrowLeft", "PageUp")
MIN_CODE_PX = 18  # code and printed output on a projected 1280x720 slide
MIN_FIGURE_TEXT_PX = 14  # tick labels and legends there
POSITION = """() => { const i = window.courseReveal.getIndices();
    return [i.h, i.f === undefined ? null : i.f]; }"""
# The positions a deck steps through: each slide, and on a slide with fragments each of them.
POSITIONS = """() => window.courseReveal.getSlides().flatMap((s, h) => {
    const n = s.querySelectorAll('.fragment').length;
    return n ? [...Array(n + 1).keys()].map(f => [h, f - 1]) : [[h, null]];
})"""
# The slide shown, as the audience sees it at the deck's scale: where its text, pictures and
# printed blocks are (in the slide's frame of 960 x 700?), the size of its code, printed output
# and figure text, the code it shows, and what starts it.
MEASURE_SLIDE = """() => {
    const s = window.courseReveal.getCurrentSlide();
    const frame = document.querySelector('.reveal .slides').getBoundingClientRect();
    const scale = frame.width / 960;
    const shown = e => !e.closest('aside.notes, .MJX_Assistive_MathML, script, style')
        && e.checkVisibility();
    const boxes = [];
    const walker = document.createTreeWalker(s, NodeFilter.SHOW_TEXT);
    const range = document.createRange();
    let node;
    while ((node = walker.nextNode())) {
        const parent = node.parentElement;
        if (!node.data.trim() || !shown(parent) || parent.closest('pre')) continue;
        range.selectNodeContents(node);
        for (const r of range.getClientRects()) if (r.width && r.height) boxes.push(r);
    }
    for (const e of s.querySelectorAll('img, svg, pre')) if (shown(e)) {
        boxes.push(e.getBoundingClientRect());
    }
    const scrolls = [...s.querySelectorAll('*')].filter(shown).filter(e => {
        const style = getComputedStyle(e), cut = ['auto', 'scroll', 'hidden'];
        return (e.scrollWidth > e.clientWidth + 1 && cut.includes(style.overflowX))
            || (e.scrollHeight > e.clientHeight + 1 && cut.includes(style.overflowY));
    }).map(e => e.tagName.toLowerCase() + '.' + e.className);
    const bottom = Math.max(...boxes.map(b => b.bottom));
    const right = Math.max(...boxes.map(b => b.right));
    const top = Math.min(...boxes.map(b => b.top));
    const left = Math.min(...boxes.map(b => b.left));
    const px = e => parseFloat(getComputedStyle(e).fontSize) * scale;
    const code = [...s.querySelectorAll('.jp-Cell pre')].filter(shown);
    const figures = [...s.querySelectorAll('.jp-OutputArea-output img')].filter(shown)
        .map(img => {
            const sizes = img.dataset.textPx ? JSON.parse(img.dataset.textPx) : null;
            const factor = img.getBoundingClientRect().width / img.naturalWidth;
            const cell = img.closest('.jp-CodeCell');
            return sizes && Object.assign(Object.fromEntries(
                Object.entries(sizes).map(([kind, size]) => [kind, size * factor])),
                {cell: (cell.id || cell.dataset.continues || '?').replace('cell-id=', '')});
        });
    const inputs = [...s.querySelectorAll('.jp-CodeCell .jp-InputArea')].filter(shown);
    const first = [...s.querySelectorAll(
        '.jp-RenderedMarkdown > *, .jp-CodeCell .jp-InputArea, .jp-OutputArea-child')]
        .filter(shown)[0];
    const headings = [...s.querySelectorAll('.jp-RenderedMarkdown h1, .jp-RenderedMarkdown h2')];
    const header = s.querySelector('.course-continued');
    return {
        height: (bottom - frame.top) / frame.height,
        fits: top >= frame.top - 1 && left >= frame.left - 1 && bottom <= frame.bottom + 1
            && right <= frame.right + 1 && !scrolls.length,
        scrolls,
        code_px: code.length ? Math.min(...code.map(px)) : null,
        figures,
        shown_code: inputs.map(e => ({
            tagged: e.closest('.jp-CodeCell').classList.contains('celltag_slide-show-code'),
            // the cell's id; a part of a cell split over two slides has none on the second
            cell: e.closest('.jp-CodeCell').id || null,
            text: e.querySelector('.jp-Editor, .highlight, pre')?.textContent ?? e.textContent,
        })),
        first: first ? {
            tag: first.tagName,
            text: first.textContent.replace('¶', '').trim().slice(0, 80),
            // its first word as plain text, not `code` or a formula
            plain: [...first.childNodes]
                .find(n => n.nodeType === 1 || n.data.trim())?.nodeType === 3,
        } : null,
        header: header ? header.textContent.trim() : null,
        section: headings.length ? headings[headings.length - 1].textContent.replace('¶', '').trim()
                                 : null,
        formulas: [...s.querySelectorAll('.MathJax_CHTML')].filter(shown)
            .map(e => e.getBoundingClientRect().width),
        text_transform: [...s.querySelectorAll('h1, h2, h3')]
            .map(h => getComputedStyle(h).textTransform),
    };
}"""


def walk_deck(page, url, notebook, screenshots=None):
    """Open a deck and step through it with the keys, forward then back; measure every slide.

    Returns ``{"positions": all of them, "forward"/"back": the positions each key press
    reached, "slides": the measurement of each slide (first time reached)}``.
    """
    assert page.goto(url).ok
    page.locator(".reveal.ready").wait_for()
    wait_for_mathjax(page)
    stored = nbformat.read(notebook, as_version=4)
    typeset = assert_formulas_typeset(page, ".reveal .slides", notebook.name)
    assert typeset or not _has_math(stored), f"{notebook.name}: no formula typeset"
    positions = [tuple(p) for p in page.evaluate(POSITIONS)]
    forward, slides = [tuple(page.evaluate(POSITION))], {}
    for step in range(len(positions) + 3):
        position = forward[-1]
        if position[0] not in slides:
            slides[position[0]] = page.evaluate(MEASURE_SLIDE)
        if screenshots is not None:
            page.screenshot(path=screenshots / f"step-{step:03d}.png")
        if position == positions[-1]:
            break
        page.keyboard.press(KEYS_FORWARD[step % len(KEYS_FORWARD)])
        forward.append(tuple(page.evaluate(POSITION)))
    back = [forward[-1]]
    for step in range(len(positions) + 3):
        if back[-1] == positions[0]:
            break
        page.keyboard.press(KEYS_BACK[step % len(KEYS_BACK)])
        back.append(tuple(page.evaluate(POSITION)))
    return {
        "positions": positions,
        "forward": forward,
        "back": back,
        "slides": slides,
        "source": notebook,
    }


@pytest.fixture(scope="module")
def decks(browser, slides_site):
    """Every deck walked at 1280x720 (a projector) with no network; screenshots of every step
    of 03's and 08's decks in build/screenshots/slides-03 and slides-08, a summary per deck in
    build/screenshots/decks.json."""
    import json

    url, _folder = slides_site
    context = offline_context(browser, viewport={"width": 1280, "height": 720})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    walked = {}
    try:
        for notebook in NOTEBOOKS:
            shots = None
            if notebook.stem[:2] in ("03", "08"):
                shots = screenshot_dir() / f"slides-{notebook.stem[:2]}"
                shutil.rmtree(shots, ignore_errors=True)
                shots.mkdir(parents=True)
            walked[notebook] = walk_deck(page, f"{url}{notebook.stem}.slides.html", notebook, shots)
        assert context.left_the_machine == [], context.left_the_machine
        assert not errors, errors
    finally:
        context.close()
    summary = {notebook.stem: deck_summary(deck) for notebook, deck in walked.items()}
    (screenshot_dir() / "decks.json").write_text(json.dumps(summary, indent=1) + "\n")
    for name, numbers in summary.items():
        print(name, numbers)
    return walked


def deck_summary(deck) -> dict:
    slides = deck["slides"].values()
    code = [s["code_px"] for s in slides if s["code_px"] is not None]
    ticks = [
        min(f.get("tick labels", 99), f.get("legend", 99))
        for s in slides
        for f in s["figures"]
        if f is not None and ("tick labels" in f or "legend" in f)
    ]
    other = [f["other text"] for s in slides for f in s["figures"] if f and "other text" in f]
    return {
        "slides": len(deck["slides"]),
        "slides needing scrolling": sum(not s["fits"] for s in slides),
        "tallest (screens)": round(max(s["height"] for s in slides), 2),
        "smallest code px": round(min(code), 1) if code else None,
        "smallest tick/legend px": round(min(ticks), 1) if ticks else None,
        "smallest other figure text px": round(min(other), 1) if other else None,
        "figures without text sizes": sum(f is None for s in slides for f in s["figures"]),
    }


def _each_slide(decks):
    for notebook, deck in decks.items():
        for number, slide in sorted(deck["slides"].items()):
            yield f"{notebook.stem} #{number + 1}", slide


def test_every_key_steps_through_every_slide_and_fragment_in_order_and_back(decks):
    for notebook, deck in decks.items():
        assert len(deck["slides"]) == deck["positions"][-1][0] + 1, notebook.name
        assert deck["forward"] == deck["positions"], f"{notebook.name}: →, Space, PageDown"
        assert deck["back"] == deck["positions"][::-1], f"{notebook.name}: ←, PageUp"


def test_every_slide_of_every_deck_fits_a_projector_without_scrolling(decks):
    assert_every_slide_fits(decks)


def assert_every_slide_fits(decks):
    too_big = _slides_that(
        decks, lambda s: not s["fits"], lambda s: f"{s['height']:.2f} screens {s['scrolls'] or ''}"
    )
    assert not too_big, "\n".join(too_big)


def _slides_that(decks, fail, describe) -> list[str]:
    """``"<deck> #<n>: <describe(slide)>"`` for each slide of ``decks`` that ``fail``s."""
    return [f"{name}: {describe(slide)}" for name, slide in _each_slide(decks) if fail(slide)]


def test_code_and_printed_output_are_readable_from_the_back_of_the_room(decks):
    assert_code_is_readable(decks)


def assert_code_is_readable(decks):
    small = _slides_that(
        decks,
        lambda s: s["code_px"] is not None and s["code_px"] < MIN_CODE_PX,
        lambda s: f"{s['code_px']:.1f} px",
    )
    assert not small, "\n".join(small)
    cased = {t for _, slide in _each_slide(decks) for t in slide["text_transform"]}
    assert cased == {"none"}, f"headings change case: {cased}"


def test_figures_tick_labels_and_legends_are_readable_from_the_back_of_the_room(decks):
    measured, unmeasured, small = 0, [], []
    for name, slide in _each_slide(decks):
        for sizes in slide["figures"]:
            if sizes is None:
                unmeasured.append(name)
                continue
            measured += 1
            for kind in ("tick labels", "legend"):
                if kind in sizes and sizes[kind] < MIN_FIGURE_TEXT_PX:
                    small.append(f"{name} (cell {sizes['cell']}): {kind} {sizes[kind]:.1f} px")
    assert not small, "\n".join(small)
    if unmeasured:
        pytest.xfail(
            f"{len(unmeasured)} figures were stored before setup_notebook recorded their text "
            f"sizes (first: {unmeasured[0]}); `make notebooks` re-draws them ({measured} measured)"
        )


def test_no_code_shows_unless_tagged_and_never_an_assert(decks):
    assert_code_shown_is_tagged_and_presentable(decks)


def assert_code_shown_is_tagged_and_presentable(decks):
    from helpers.course import cells
    from helpers.course.slides import SHOW_CODE_TAG, lecture_view

    for notebook, deck in decks.items():
        shown = [code for slide in deck["slides"].values() for code in slide["shown_code"]]
        assert all(code["tagged"] for code in shown), f"{notebook.name}: untagged code shown"
        for code in shown:
            for mark in ("NBVAL_", "BEGIN SOLUTION", "END SOLUTION", "# Why:"):
                assert mark not in code["text"], f"{notebook.name}: {mark} on a slide"
            assert not re.search(r"^\s*assert\b", code["text"], re.M), f"{notebook.name}: assert"
        view = lecture_view(nbformat.read(deck["source"], as_version=4))
        tagged = {
            f"cell-id={c.id}"
            for c in view.cells
            if SHOW_CODE_TAG in cells.tags(c) and not c.metadata.get("transient")
        }
        assert {code["cell"] for code in shown} - {None} == tagged, notebook.name


@pytest.fixture(scope="module")
def tagged_decks(browser, tmp_path_factory):
    """03's and 08's decks with every code cell tagged ``slide-show-code`` (the most code a deck
    can show: long solutions, asserts and test-only lines among it), walked like the others."""
    from helpers.course import cells
    from helpers.course.slides import SHOW_CODE_TAG, build_slides

    folder = tmp_path_factory.mktemp("tagged")
    sources = []
    for notebook in NOTEBOOKS:
        if notebook.stem[:2] not in ("03", "08"):
            continue
        nb = nbformat.read(notebook, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code" and SHOW_CODE_TAG not in cells.tags(cell):
                cell.metadata.setdefault("tags", []).append(SHOW_CODE_TAG)
        sources.append(folder / notebook.name)
        nbformat.write(nb, sources[-1])
    build_slides(sources, folder / "slides", node_modules=ROOT / "build" / "web" / "node_modules")
    context = offline_context(browser, viewport={"width": 1280, "height": 720})
    page = context.new_page()
    try:
        with serve_folder(folder / "slides") as url:
            walked = {
                source: walk_deck(page, f"{url}{source.stem}.slides.html", source)
                for source in sources
            }
        assert context.left_the_machine == []
    finally:
        context.close()
    return walked


def test_a_deck_with_every_code_cell_tagged_still_fits_and_shows_no_test_lines(tagged_decks):
    for notebook, deck in tagged_decks.items():
        codes = [c for s in deck["slides"].values() for c in s["shown_code"]]
        assert len(codes) >= 10, f"{notebook.name}: only {len(codes)} code cells shown"
        summary = deck_summary(deck)
        print(f"{notebook.stem}, every code cell tagged: {summary}")
    assert_code_shown_is_tagged_and_presentable(tagged_decks)
    assert_every_slide_fits(tagged_decks)
    assert_code_is_readable(tagged_decks)
    assert_agenda_and_section_headers(tagged_decks)


def test_each_deck_opens_with_its_agenda_and_continued_slides_carry_their_section(decks):
    assert_agenda_and_section_headers(decks)


def assert_agenda_and_section_headers(decks):
    from helpers.course.speaker_notes import sections

    for notebook, deck in decks.items():
        slides = [deck["slides"][n] for n in sorted(deck["slides"])]
        starts = [s["first"]["text"] for s in slides[:4] if s["first"]]
        agenda = "Agenda" in starts
        assert agenda, f"{notebook.name}: no agenda slide"
        stored = nbformat.read(notebook, as_version=4)
        assert sections(stored), notebook.name
        section = None
        for number, slide in enumerate(slides, start=1):
            first = slide["first"]
            opens_section = first is not None and first["tag"] in ("H1", "H2")
            if opens_section:
                section = first["text"].replace("¶", "").strip()
                assert slide["header"] is None, f"{notebook.name} #{number}"
                continue
            assert slide["header"] == section, f"{notebook.name} #{number}: no section header"
            # never mid-sentence: a slide's first paragraph starts a sentence
            if first is not None and first["tag"] == "P" and first["plain"]:
                assert not first["text"][:1].islower(), f"{notebook.name} #{number}: {first}"
            # every formula shown has been typeset, with a size
            assert all(width > 0 for width in slide["formulas"]), f"{notebook.name} #{number}"


def test_the_speaker_window_holds_only_notes_written_by_hand(slides_site):
    from helpers.course.speaker_notes import sections, written_by_hand

    _url, folder = slides_site
    for notebook in NOTEBOOKS:
        stored = nbformat.read(notebook, as_version=4)
        written = sum(
            cell is not None and written_by_hand(cell) for _h, _t, cell in sections(stored)
        )
        deck = (folder / f"{notebook.stem}.slides.html").read_text()
        assert deck.count('<aside class="notes">') == written, notebook.name


def test_the_handout_prints_one_slide_a_page_and_cuts_none(browser, decks, slides_site, tmp_path):
    from helpers.course.handout import print_handouts

    _url, folder = slides_site
    printed = print_handouts(sorted(folder.glob("*.slides.html")), tmp_path, browser=browser)
    pages = {}
    for result in printed:
        notebook = next(n for n in decks if result["pdf"].stem == n.stem)
        assert result["cut"] == [], f"{notebook.name}: slides cut {result['cut']}"
        assert result["pages"] == result["slides"] == len(decks[notebook]["slides"]), result
        pages[notebook.stem] = result["pages"]
    assert len(pages) == len(NOTEBOOKS)
    print("handout pages:", pages)


# The colour a reader sees behind an element: its own background, else its nearest ancestor's.
CONTRAST = """element => {
    const rgb = c => (c.match(/[\\d.]+/g) || []).map(Number);
    const luminance = ([r, g, b]) => {
        const f = v => (v /= 255) <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
        return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    let back = element;
    while (back && (rgb(getComputedStyle(back).backgroundColor)[3] === 0
                    || getComputedStyle(back).backgroundColor === 'transparent')) {
        back = back.parentElement;
    }
    const [a, b] = [luminance(rgb(getComputedStyle(element).color)),
                    luminance(rgb(getComputedStyle(back || document.body).backgroundColor))];
    return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""


def test_a_dark_deck_keeps_its_text_and_figures_legible(browser, tmp_path):
    from helpers.course.slides import build_slides

    notebook = next(n for n in NOTEBOOKS if n.stem.startswith("03_"))
    build_slides(
        [notebook], tmp_path, node_modules=ROOT / "build" / "web" / "node_modules", theme="black"
    )
    context = offline_context(browser, viewport={"width": 1280, "height": 720})
    page = context.new_page()
    try:
        with serve_folder(tmp_path) as url:
            deck = walk_deck(page, f"{url}{notebook.stem}.slides.html", notebook)
            background = page.evaluate(
                "getComputedStyle(document.querySelector('.reveal-viewport')).backgroundColor"
            )
            assert sum(map(int, re.findall(r"\d+", background)[:3])) < 3 * 60, background
            texts = page.locator(".reveal .slides p, .reveal .slides pre, .reveal .slides li")
            low = [
                round(ratio, 1)
                for ratio in texts.evaluate_all(f"els => els.map({CONTRAST})")
                if ratio < 4.5
            ]
            assert not low, f"text below a 4.5:1 contrast on the dark deck: {low[:5]}"
            cards = page.locator(".reveal .jp-OutputArea-output img").evaluate_all(
                "imgs => imgs.map(i => [getComputedStyle(i).backgroundColor,"
                " parseFloat(getComputedStyle(i).paddingTop)])"
            )
            assert cards and all(c == ["rgb(255, 255, 255)", 8] for c in cards), cards[:3]
            page.screenshot(path=screenshot_dir() / "slides-03-black.png")
        assert all(slide["fits"] for slide in deck["slides"].values())
        assert context.left_the_machine == []
    finally:
        context.close()


@pytest.mark.parametrize("how", ["SIGINT", "SIGTERM", "SIGKILL"])
def test_killing_a_run_midway_leaves_no_server_kernel_or_browser(chromium_path, tmp_path, how):
    """Start this module on one notebook, kill pytest while the notebook runs, look for orphans."""
    marker = uuid.uuid4().hex
    env = dict(os.environ, **{RUN_MARKER: marker, "DNN_WEEK3_SCREENSHOTS": str(tmp_path)})
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", __file__]
    command += ["-k", "opens_from_the_index_and_runs and 07_"]
    run = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while True:  # mid-way: the notebook's kernel and Chromium are both up
            running = marked_processes(marker, exclude={run.pid}).values()
            if any("ipykernel" in c for c in running) and any("chrom" in c for c in running):
                break
            assert run.poll() is None, "the run ended before it could be interrupted"
            assert time.monotonic() < deadline, f"not started within 120 s: {running}"
            time.sleep(0.5)
        time.sleep(2)
        run.send_signal(getattr(signal, how))
        run.wait(60)
        deadline = time.monotonic() + 30
        while marked_processes(marker) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert marked_processes(marker) == {}, f"left running after {how}"
    finally:
        if run.poll() is None:
            run.kill()
        kill_marked_processes(marker)
