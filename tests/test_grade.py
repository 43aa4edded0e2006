"""The autograder on real submissions of notebook 05, including broken ones."""

import json
from pathlib import Path

import nbformat
import pytest

from helpers.course import grade

SOURCE = Path(__file__).resolve().parent.parent / "notebooks" / "05_softmax_regression.ipynb"
MAX = 8.0


def _submission(tmp_path, name="submission.ipynb", **replace):
    """05 without its slow Keras cell, each exercise cell ``function`` replaced by ``source``."""
    nb = nbformat.read(SOURCE, as_version=4)
    nb.cells = [c for c in nb.cells if "import keras" not in c.source]
    for cell in nb.cells:
        cell.outputs = [] if cell.cell_type == "code" else cell.get("outputs")
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in replace:
            if replace[grade_id] is None:
                cell.source, cell.metadata = "", {}
            else:
                cell.source = replace[grade_id]
    nb.cells = [c for c in nb.cells if c.source or c.cell_type != "code"]
    path = tmp_path / name
    nbformat.write(nb, path)
    return path


def _by_function(report):
    return {e["function"]: e for e in report["exercises"]}


@pytest.mark.slow
def test_the_solution_gets_full_marks(tmp_path):
    report = grade.grade_notebook(_submission(tmp_path), timeout=30)
    assert (report["score"], report["max_score"]) == (MAX, MAX)
    assert report["notebook"] == "05_softmax_regression" and report["notes"] == []


@pytest.mark.slow
def test_each_fault_costs_only_its_own_exercise(tmp_path):
    path = _submission(
        tmp_path,
        softmax="def softmax(Z)\n    return Z",  # syntax error
        one_hot=None,  # deleted cell
        cross_entropy_cost="def cross_entropy_cost(Y_hat, Y):\n    return 1 / 0",
        softmax_regression_step="while True:\n    pass",  # endless loop at top level
    )
    report = grade.grade_notebook(path, timeout=5)
    results = _by_function(report)
    assert report["score"] == 0.0 and report["max_score"] == MAX
    assert "SyntaxError" in results["softmax"]["feedback"]
    assert "one_hot is not defined" in results["one_hot"]["feedback"]
    assert "ZeroDivisionError" in results["cross_entropy_cost"]["feedback"]
    assert "TimeoutError" in results["softmax_regression_step"]["feedback"]


@pytest.mark.slow
def test_a_wrong_answer_and_a_renamed_function_lose_their_points_only(tmp_path):
    path = _submission(
        tmp_path,
        softmax="import numpy as np\ndef softmax(Z):\n    return np.exp(Z) / np.exp(Z).sum(0)",
        one_hot="def onehot(labels, C):\n    return None",
    )
    results = _by_function(report := grade.grade_notebook(path, timeout=30))
    assert report["score"] == MAX - 3
    assert "large logits" in results["softmax"]["feedback"]
    assert "one_hot is not defined" in results["one_hot"]["feedback"]
    assert results["softmax_regression_step"]["passed"]


@pytest.mark.slow
def test_a_kernel_crash_costs_only_that_exercise(tmp_path):
    path = _submission(tmp_path, one_hot="import os\nos._exit(1)")
    report = grade.grade_notebook(path, timeout=30)
    assert report["score"] == MAX - 1
    assert any("crashed the kernel" in note for note in report["notes"])


@pytest.mark.slow
def test_edited_check_cells_and_forged_results_are_ignored(tmp_path):
    nb = nbformat.read(_submission(tmp_path, softmax="def softmax(Z):\n    return Z"), 4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade"):
            cell.source = 'print("✓ softmax: 6/6 checks passed")'
            cell.metadata.nbgrader["points"] = 100
    # a forged marker line and a monkeypatched check must not count either
    nb.cells.append(
        nbformat.v4.new_code_cell(
            "import helpers.checks\nhelpers.checks.check_softmax = lambda f: None\n"
            'print(\'@@grade-0@@{"function": "softmax", "passed": true, "feedback": "x"}\')'
        )
    )
    path = tmp_path / "forged.ipynb"
    nbformat.write(nb, path)
    report = grade.grade_notebook(path, timeout=30)
    assert report["max_score"] == MAX and report["score"] == MAX - 2
    assert not _by_function(report)["softmax"]["passed"]


def test_unreadable_and_foreign_files_are_reported_not_raised(tmp_path):
    bad = tmp_path / "bad.ipynb"
    bad.write_text("{ not json")
    report = grade.grade_notebook(bad)
    assert report["score"] == 0 and "not a readable notebook" in report["notes"][0]
    other = tmp_path / "other.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")]), other)
    assert "no graded exercise" in grade.grade_notebook(other)["notes"][0]
    assert "not found" in grade.grade_notebook(tmp_path / "missing.ipynb")["notes"][0]


@pytest.mark.slow
def test_cli_prints_a_table_and_writes_the_json_report(tmp_path, capsys):
    path = _submission(tmp_path, softmax="def softmax(Z):\n    return Z")
    report_path = tmp_path / "out" / "report.json"
    assert grade.main([str(path), "--json", str(report_path), "--timeout", "30"]) == 0
    table = capsys.readouterr().out
    assert "softmax" in table and "failed" in table and f"total 6/{MAX:g}" in table
    report = json.loads(report_path.read_text())
    assert set(report) >= {"score", "max_score", "exercises"}
    assert set(report["exercises"][0]) >= {"grade_id", "points", "max_points", "passed", "feedback"}
    assert report["score"] == 6.0
