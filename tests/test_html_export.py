import logging
import re
from urllib.parse import unquote

import nbformat
import pytest
from test_notebook_structure import NOTEBOOKS

from helpers.course.html_export import export_html, index_page, link_pattern, main, notebook_title
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


@pytest.mark.slow
def test_every_notebook_becomes_a_page_linked_from_the_index(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        written = export_html(NOTEBOOKS, tmp_path)
    # Every picture has alternative text (nbconvert warns otherwise and writes a placeholder).
    assert not [r for r in caplog.records if "Alternative text" in r.getMessage()]
    for page in written:
        text = page.read_text()
        assert "No description has been provided" not in text, page.name
        assert "Speaker notes" not in text, f"{page.name}: the speaker notes are for the slides"
        # Nothing is loaded from the web: every script and style sheet is beside the pages.
        loads = re.findall(r'<(?:script|link|img)[^>]*\b(?:src|href)="([^"]*)"', text)
        remote = [url for url in loads if re.match(r"(https?:)?//", url)]
        assert not remote, f"{page.name} loads {remote}"
        for url in {u.split("?")[0] for u in loads if not u.startswith(("data:", "#"))}:
            assert (tmp_path / url).is_file(), f"{page.name} loads {url}: not written"
    assert [p.name for p in written] == [f"{p.stem}.html" for p in NOTEBOOKS] + ["index.html"]
    index = (tmp_path / "index.html").read_text()
    assert re.findall(r'href="([^"]+)"', index) == [f"{p.stem}.html" for p in NOTEBOOKS]
    first = (tmp_path / "00_index.html").read_text()
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
