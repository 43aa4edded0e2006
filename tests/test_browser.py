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

import http.server
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
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
)
from test_notebook_structure import NOTEBOOKS

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
    """Tick each question's first option and Check: the feedback must be what ``grade`` says.

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
        question = by_prompt[prompt.split(" (check all")[0]]
        widget.locator("input[type=radio], input[type=checkbox]").first.check()
        widget.locator("button", has_text="Check").click()
        feedback = widget.locator(".widget-html").last
        link = widget.locator(".widget-output a")  # an output: JupyterLab's link handling
        link.wait_for()
        expected = grade(question, {0}).message
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


def serve(folder):
    """Serve ``folder`` over HTTP on 127.0.0.1 (a context manager yielding the base URL)."""
    import contextlib

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(folder), **kwargs)

        def log_message(self, *args):
            pass

    @contextlib.contextmanager
    def running():
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}/"
        finally:
            server.shutdown()
            server.server_close()

    return running()


@pytest.fixture(scope="module")
def html_site(run_marker, tmp_path_factory):
    """`make html`'s pages, built afresh and served over HTTP on 127.0.0.1 for the browser."""
    from helpers.course.html_export import export_html

    folder = tmp_path_factory.mktemp("html")
    export_html(NOTEBOOKS, folder, node_modules=ROOT / "build" / "web" / "node_modules")
    with serve(folder) as url:
        yield url


@pytest.fixture(scope="module")
def slides_site(run_marker, tmp_path_factory):
    """`make slides`' decks, from copies of the notebooks given their slide metadata (a no-op
    once `make slide-metadata` has run), served over HTTP on 127.0.0.1."""
    from helpers.course.slides import annotate_files, build_slides

    notebooks = tmp_path_factory.mktemp("slide-notebooks")
    for path in NOTEBOOKS:
        shutil.copy(path, notebooks / path.name)
    copies = sorted(notebooks.glob("*.ipynb"))
    annotate_files(copies)
    folder = tmp_path_factory.mktemp("slides")
    build_slides(copies, folder, node_modules=ROOT / "build" / "web" / "node_modules")
    with serve(folder) as url:
        yield url


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


def test_the_static_pages_work_offline_and_every_link_resolves(browser, html_site):
    context = offline_context(browser)
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
            if widget_outputs(stored) and notebook.name == "09_self_check_quiz.ipynb":
                # the quiz's stored widgets, drawn by the widget manager from _static
                page.locator(".widget-radio-box, .widget-checkbox").first.wait_for()
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


def test_every_slide_deck_opens_offline_with_formulas_typeset(browser, slides_site):
    context = offline_context(browser, viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(slides_site + "index.html")
        decks = page.locator("a").evaluate_all("links => links.map(a => a.href)")
        assert len(decks) == len(NOTEBOOKS)
        screenshots = screenshot_dir()
        for url, notebook in zip(decks, NOTEBOOKS, strict=True):
            assert page.goto(url).ok
            page.locator(".reveal.ready").wait_for()  # reveal.js initialized
            wait_for_mathjax(page)
            stored = nbformat.read(notebook, as_version=4)
            typeset = assert_formulas_typeset(page, ".reveal .slides", notebook.name)
            assert typeset or not _has_math(stored), f"{notebook.name}: no formula typeset"
            assert page.locator(".reveal .slides > section").count() >= 3, notebook.name
            # the slide a deck opens on fits or scrolls too (nbconvert's script missed it)
            page.wait_for_function(f"() => {PRESENT_SLIDE_FITS_OR_SCROLLS}", timeout=10_000)
            assert page.locator("aside.notes").count(), f"{notebook.name}: no speaker notes"
            if notebook.name == "03_batchnorm_from_scratch.ipynb":
                slides, fragments, formulas = step_through(page, screenshots / "slides-03")
                print(f"03's deck: {slides} slides, {fragments} fragments, {formulas} formulas")
        assert context.left_the_machine == [], context.left_the_machine
        assert not errors, errors
    finally:
        context.close()


# The slide shown: reveal.js also marks a vertical stack "present", and the stack's other
# sub-slides are hidden (their formulas have no size); speaker notes are not on the slide.
PRESENT_FORMULA_WIDTHS = (
    "[...document.querySelectorAll('section.present:not(.stack) .MathJax_CHTML')]"
    ".filter(e => !e.closest('aside.notes')).map(e => e.getBoundingClientRect().width)"
)
# The slide shown lies inside the window, and what does not fit in it scrolls: the slide down,
# code and printed output sideways (never cut off); printed output keeps its lines unbroken.
PRESENT_SLIDE_FITS_OR_SCROLLS = """(() => {
    const s = document.querySelector('section.present:not(.stack)');
    const box = s.getBoundingClientRect();
    const inside = box.top >= -1 && box.bottom <= window.innerHeight + 1;
    const scrolls = (e, axis) => ['auto', 'scroll'].includes(getComputedStyle(e)[axis]);
    const wide = [...s.querySelectorAll('.jp-InputArea-editor, .jp-OutputArea-output pre')]
        .filter(e => e.scrollWidth > e.clientWidth + 1);
    const outputs = [...s.querySelectorAll('.jp-OutputArea-output pre')];
    return inside && (s.scrollHeight <= s.clientHeight + 1 || scrolls(s, 'overflowY'))
        && wide.every(e => scrolls(e, 'overflowX'))
        && outputs.every(e => getComputedStyle(e).whiteSpace === 'pre');
})()"""
FRAGMENT_SHOWN_IN_VIEW = """(() => {
    const s = document.querySelector('section.present:not(.stack)');
    const f = s.querySelector('.fragment.current-fragment');
    if (!f) return true;
    const a = f.getBoundingClientRect(), b = s.getBoundingClientRect();
    return a.top >= b.top - 1 && a.top < b.bottom - 40;
})()"""
LEAF_SLIDES = (  # the slides reveal.js counts: sections without sections inside
    "[...document.querySelectorAll('.reveal .slides section')]"
    ".filter(s => !s.querySelector('section'))"
)


def step_through(page, screenshots: Path):
    """Press Space (reveal.js: next) through the whole deck, fragments included; every slide
    must be reached. Screenshots of every eighth step."""
    screenshots.mkdir(parents=True, exist_ok=True)
    total = page.evaluate(f"{LEAF_SLIDES}.length")
    fragments = page.locator(".reveal .slides .fragment").count()
    seen, formulas = set(), 0
    for step in range(total + fragments + 5):
        seen.add(page.evaluate(f"{LEAF_SLIDES}.findIndex(s => s.classList.contains('present'))"))
        # reveal.js asks MathJax to redraw the slide shown, after the slide changed; then every
        # formula on it has a size (a blank one would not).
        try:
            page.wait_for_function(
                f"() => {PRESENT_FORMULA_WIDTHS}.every(w => w > 0)", timeout=10_000
            )
        except Exception:
            page.screenshot(path=screenshots / f"blank-formula-{step:03d}.png")
            raise AssertionError(f"step {step}: a formula stays blank") from None
        try:  # MathJax redraws the slide first, then the deck fits it to the screen
            page.wait_for_function(f"() => {PRESENT_SLIDE_FITS_OR_SCROLLS}", timeout=5_000)
            # a fragment just shown (an exercise's solution) is scrolled into the slide's view
            page.wait_for_function(f"() => {FRAGMENT_SHOWN_IN_VIEW}", timeout=5_000)
        except Exception:
            page.screenshot(path=screenshots / f"off-screen-{step:03d}.png")
            raise AssertionError(
                f"step {step}: the slide or its new fragment is off the screen"
            ) from None
        widths = page.evaluate(PRESENT_FORMULA_WIDTHS)
        formulas += len(widths)
        if step % 8 == 0:
            page.screenshot(path=screenshots / f"step-{step:03d}.png")
        if len(seen - {-1}) == total:
            break
        page.keyboard.press("Space")
        page.wait_for_timeout(100)  # the slide transition is off; reveal.js then redraws
    assert len(seen - {-1}) == total, f"reached {len(seen - {-1})} of {total} slides"
    assert formulas, "no formula on any slide"
    return total, fragments, formulas


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
