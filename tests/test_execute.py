import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from helpers.course import execute


def _notebook(path, *sources):
    nb = new_notebook(cells=[new_markdown_cell("# t"), *map(new_code_cell, sources)])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, path)
    return path


@pytest.mark.slow
def test_in_place_stores_outputs_of_one_run(tmp_path):
    path = _notebook(tmp_path / "a.ipynb", "x = 6 * 7", "print(x)")
    assert execute.run_in_place([path]) == 0
    cells = nbformat.read(path, as_version=4).cells
    assert [c.execution_count for c in cells[1:]] == [1, 2]
    assert cells[2].outputs[0].text == "42\n"
    assert list(tmp_path.iterdir()) == [path], "no temporary file left behind"


@pytest.mark.slow
def test_runs_in_the_notebooks_own_folder(tmp_path):
    (tmp_path / "here.txt").write_text("found")
    path = _notebook(tmp_path / "a.ipynb", "print(open('here.txt').read())")
    nb, seconds, _ = execute.execute_notebook(path)
    assert nb.cells[1].outputs[0].text == "found\n" and seconds > 0


@pytest.mark.slow
def test_a_file_edited_while_it_ran_is_not_overwritten(tmp_path, monkeypatch):
    path = _notebook(tmp_path / "a.ipynb", "print(1)")
    real = execute.execute_notebook

    def edit_meanwhile(p, **kw):
        result = real(p, **kw)
        _notebook(p, "print('the person saved this')")
        return result

    monkeypatch.setattr(execute, "execute_notebook", edit_meanwhile)
    assert execute.run_in_place([path]) == 1
    assert "the person saved this" in path.read_text()
    assert nbformat.read(path, as_version=4).cells[1].execution_count is None
    # --force writes the executed notebook although the file changed meanwhile
    assert execute.run_in_place([path], force=True) == 0
    assert nbformat.read(path, as_version=4).cells[1].execution_count == 1


@pytest.mark.slow
def test_bench_reports_seconds_and_peak_memory(tmp_path, capsys):
    path = _notebook(tmp_path / "a.ipynb", "import numpy as np; a = np.ones(10_000_000)")
    report = tmp_path / "out" / "bench.json"
    rows = execute.bench([path], json_path=report)
    assert json.loads(report.read_text()) == rows
    (row,) = rows
    assert row["notebook"] == str(path) and row["seconds"] > 0
    assert row["peak_mb"] > 80  # the kernel held a 76 MB array
    assert "total" in capsys.readouterr().out


@pytest.mark.slow
def test_a_failing_cell_stops_the_run_and_writes_nothing(tmp_path):
    path = _notebook(tmp_path / "a.ipynb", "1 / 0")
    before = path.read_text()
    with pytest.raises(Exception, match="ZeroDivisionError"):
        execute.run_in_place([path])
    assert path.read_text() == before


def test_cli_rejects_a_missing_notebook(tmp_path, capsys):
    with pytest.raises(SystemExit):
        execute.main(["--bench", str(tmp_path / "nope.ipynb")])
    assert "no such notebook" in capsys.readouterr().err
