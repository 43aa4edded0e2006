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

    Returns the last question's link to the section that teaches it.
    """
    from helpers.quiz import grade, load_quiz

    by_prompt = {q.question.replace("`", ""): q for q in load_quiz()}  # `code` shows as code
    widgets = panel.locator(".jp-OutputArea-output .widget-vbox:has(button)")
    summary = panel.locator(".jp-OutputArea-output .widget-html", has_text="Score:").last
    assert widgets.count() == len(by_prompt), f"{len(by_prompt)} questions, {widgets.count()} shown"
    for i in range(widgets.count()):
        widget = widgets.nth(i)
        widget.scroll_into_view_if_needed()
        prompt = widget.locator(".widget-html").first.inner_text().split(" (check all")[0]
        question = by_prompt[prompt]
        widget.locator("input[type=radio], input[type=checkbox]").first.check()
        widget.locator("button", has_text="Check").click()
        feedback = widget.locator(".widget-html").last
        feedback.locator("a").wait_for()
        expected = grade(question, {0}).message
        assert feedback.inner_text().startswith(expected), (question.id, feedback.inner_text())
        assert feedback.locator("a").get_attribute("href") == question.link
        page.wait_for_function(
            "([el, k]) => el.textContent.includes(`(${k} of`)",
            arg=[summary.element_handle(), i + 1],
        )
    return widgets.last.locator(".widget-html a").last


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
        link = answer_quiz(page, panel)
        page.screenshot(path=screenshots / f"{notebook.stem}-answered.png")
        target = urlsplit(link.get_attribute("href"))
        link.click()  # a plain link in a widget: the page reloads with that notebook opened
        wait_for_current_notebook(page, Path(unquote(target.path)).name)
        assert (
            current_panel(page).locator(f"[data-jupyter-id='{unquote(target.fragment)}']").count()
        )
    total = time.monotonic() - opened
    print(f"{notebook.name}: ran in {seconds:.1f} s, {total:.1f} s with the UI")


@pytest.fixture(scope="module")
def html_site(run_marker, tmp_path_factory):
    """`make html`'s pages, built afresh and served over HTTP on 127.0.0.1 for the browser."""
    from helpers.course.html_export import export_html

    folder = tmp_path_factory.mktemp("html")
    export_html(NOTEBOOKS, folder)

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


def test_the_static_pages_open_from_their_index_and_every_link_resolves(browser, html_site):
    context = browser.new_context()
    # The pages load MathJax and the widget manager from a CDN; offline, answer those at once.
    context.route(re.compile(r"^https?://(?!127\.0\.0\.1)"), lambda route: route.abort())
    page = context.new_page()
    try:
        response = page.goto(html_site + "index.html")
        assert response.ok
        pages = page.locator("a").evaluate_all("links => links.map(a => a.href)")
        assert len(pages) == len(NOTEBOOKS)
        ids, links = {}, {}  # per page: the ids of its elements, its links within the site
        for url in pages:
            response = page.goto(url, wait_until="domcontentloaded")  # not the CDN scripts
            assert response.ok, f"{url}: HTTP {response.status}"
            assert page.locator(".jp-Notebook").count(), f"{url} is not a notebook page"
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
