import os
import stat

import nbformat
import pytest

from helpers.course.notebook_io import read_notebook, write_atomically, write_text_atomically


def test_a_new_file_gets_the_umask_mode_not_mkstemps_0600(tmp_path):
    old = os.umask(0o022)
    try:
        write_text_atomically("hello", tmp_path / "page.html")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "page.html").stat().st_mode) == 0o644
    assert (tmp_path / "page.html").read_text() == "hello"


def test_a_replaced_file_keeps_its_mode_and_no_temporary_file_remains(tmp_path):
    target = tmp_path / "a.ipynb"
    target.write_text("old")
    target.chmod(0o640)
    nb = nbformat.v4.new_notebook()
    write_atomically(nb, target)
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert read_notebook(target) == nb
    assert [p.name for p in tmp_path.iterdir()] == ["a.ipynb"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "page.html"
    target.write_text("kept")
    with pytest.raises(TypeError):
        write_text_atomically(b"bytes, not text", target)
    assert target.read_text() == "kept"
    assert [p.name for p in tmp_path.iterdir()] == ["page.html"]
