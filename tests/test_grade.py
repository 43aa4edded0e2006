"""The autograder on submissions of notebook 05: honest, broken, and written to cheat.

Every attack of issue 20 is here, written as a student would write it (in the exercise cell or
in an extra cell). The fast ones run with ``make unit``; those that need seconds of sandboxed
runs are marked ``slow``; ``make test-grader-security`` runs all of them.
"""

import json
import os
import sys
from pathlib import Path

import nbformat
import pytest

from helpers.checks import EXERCISES
from helpers.course import cluster, grade, sandbox

SOURCE = Path(__file__).resolve().parent.parent / "notebooks" / "05_softmax_regression.ipynb"
NAME = "05_softmax_regression.ipynb"
MAX = 8.0

HAVE_SANDBOX = sandbox.find_bwrap() is not None and os.geteuid() == 0
if os.environ.get("DNN_WEEK3_REQUIRE_SANDBOX") and not HAVE_SANDBOX:
    raise RuntimeError("DNN_WEEK3_REQUIRE_SANDBOX is set but bubblewrap or root is missing")

UNSOLVED = {
    f: f"def {f}(*args):\n    raise NotImplementedError()"
    for f in ("softmax", "one_hot", "cross_entropy_cost", "softmax_regression_step")
}


def _submission(tmp_path, name=NAME, extra=(), source=SOURCE, **replace):
    """05 as a student hands it in: each exercise cell ``function`` replaced by ``source``
    (None deletes the cell), and ``extra`` code cells appended at the end."""
    nb = nbformat.read(source, as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in replace:
            if replace[grade_id] is None:
                cell.source, cell.metadata = "", {}
            else:
                cell.source = replace[grade_id]
    nb.cells = [c for c in nb.cells if c.source or c.cell_type != "code"]
    nb.cells += [nbformat.v4.new_code_cell(code) for code in extra]
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def _grade(*paths, **options):
    grader = grade.Grader(sandboxed=HAVE_SANDBOX, **options)
    try:
        return grader.grade(paths)
    finally:
        grader.close()


def _by_function(report):
    return {e["function"]: e for e in report["exercises"]}


# ---- the program comes from the instructor's notebook ------------------------------------------


def test_every_graded_notebook_marks_its_demonstrations():
    for notebook in {e.notebook for e in EXERCISES.values()}:
        nb = nbformat.read(grade.NOTEBOOKS_DIR / f"{notebook}.ipynb", as_version=4)
        setup = grade.instructor_program(nb)
        assert len(setup) == 1 and "helpers.setup_notebook(" in setup[0], notebook


def test_the_assignment_comes_from_the_file_name_or_the_option():
    names = ["02_appropriate_scale", "05_softmax_regression"]
    assert grade.identify(Path("05_softmax_regression.ipynb"), names) == names[1]
    assert grade.identify(Path("x/05_softmax_regression-alice.ipynb"), names) == names[1]
    assert grade.identify(Path("alice.ipynb"), names) is None
    assert grade.identify(Path("alice.ipynb"), names, "02_appropriate_scale") == names[0]


def test_only_the_first_cell_of_each_exercise_counts():
    nb = nbformat.v4.new_notebook()
    cells = [
        nbformat.v4.new_code_cell("def softmax(Z):\n    return 1", metadata={"nbgrader": {}}),
        nbformat.v4.new_code_cell("first"),
        nbformat.v4.new_code_cell("second"),
        nbformat.v4.new_markdown_cell("markdown"),
    ]
    for cell in cells[1:]:
        cell.metadata["nbgrader"] = {"grade_id": "softmax"}
    nb.cells = cells
    sources, notes = grade.exercise_sources(nb, {"softmax", "one_hot"})
    assert sources == {"softmax": "first"} and "second cell" in notes[0]


def test_graded_functions_are_stubbed_in_the_package_a_run_sees(tmp_path):
    package = sandbox.course_package(tmp_path, set(EXERCISES))
    text = (package / "softmax.py").read_text()
    assert "not available while grading" in text and "T.sum(axis=0" not in text
    assert "def accuracy" in text  # lesson code that is not an answer stays
    assert not (package / "course" / "grade.py").exists()
    assert (package / "course" / "runner.py").exists()


def test_unreadable_and_foreign_files_are_reported_and_not_graded(tmp_path):
    bad = tmp_path / NAME
    bad.write_text("{ not json")
    other = tmp_path / "other.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")]), other)
    grader = grade.Grader(sandboxed=False)
    try:
        reports = [grader.plan(p) for p in (bad, other, tmp_path / "missing" / NAME)]
    finally:
        grader.close()
    assert not any(r["graded"] for r in reports)
    assert "not a readable notebook" in reports[0]["notes"][0]
    assert "which assignment" in reports[1]["notes"][0]
    assert "not found" in reports[2]["notes"][0]


def test_without_a_sandbox_the_grader_refuses(monkeypatch):
    monkeypatch.setattr(sandbox, "find_bwrap", lambda: None)
    with pytest.raises(sandbox.SandboxUnavailable, match="--no-sandbox"):
        grade.Grader(sandboxed=True)
    assert grade.main(["x.ipynb"]) == 2


def test_without_distributed_the_grader_says_what_to_install(monkeypatch, capfd):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed fails
    with pytest.raises(cluster.ClusterUnavailable, match=r"requirements-distributed\.txt"):
        cluster.connect("tcp://127.0.0.1:8786")
    assert grade.main(["x.ipynb", "--scheduler", "tcp://127.0.0.1:8786"]) == 2
    assert "not installed" in capfd.readouterr().err


def test_runs_importing_tensorflow_start_first_and_results_keep_their_order(monkeypatch):
    programs = [{"setup": [f"import numpy  # {i}"]} for i in range(4)]
    programs[2]["setup"].append("import tensorflow as tf")
    started = []

    def run(program):
        started.append(program["setup"][0])
        return program["setup"][0]

    grader = grade.Grader(sandboxed=False, jobs=1)
    try:
        monkeypatch.setattr(grader, "run", run)
        calls = []
        results = grader._run_all(programs, lambda *counts: calls.append(counts))
    finally:
        grader.close()
    assert started[0] == "import numpy  # 2"
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]  # the progress bar's steps
    assert results == [p["setup"][0] for p in programs]


# ---- grading: honest and broken submissions -----------------------------------------------------


@pytest.mark.slow
def test_the_solution_gets_full_marks_and_the_stub_none(tmp_path):
    solved, unsolved = _grade(_submission(tmp_path / "a"), _submission(tmp_path / "b", **UNSOLVED))
    assert (solved["score"], solved["max_score"]) == (MAX, MAX) and solved["notes"] == []
    assert unsolved["score"] == 0 and unsolved["graded"]
    assert all("NotImplementedError" in e["feedback"] for e in unsolved["exercises"])


@pytest.mark.slow
def test_each_fault_costs_only_its_own_exercise(tmp_path):
    path = _submission(
        tmp_path,
        softmax="def softmax(Z)\n    return Z",  # syntax error
        one_hot="import os\nos._exit(1)",  # kills its own process
        cross_entropy_cost="def cross_entropy_cost(Y_hat, Y):\n    return 1 / 0",
        softmax_regression_step=None,  # deleted
    )
    (report,) = _grade(path)
    results = _by_function(report)
    assert report["score"] == 0.0 and report["graded"]
    assert "SyntaxError" in results["softmax"]["feedback"]
    assert results["one_hot"]["status"] == "crashed"
    assert "ZeroDivisionError" in results["cross_entropy_cost"]["feedback"]
    assert "is not defined" in results["softmax_regression_step"]["feedback"]


@pytest.mark.slow
def test_the_reference_stands_in_for_a_broken_or_missing_earlier_exercise(tmp_path):
    reports = _grade(
        _submission(tmp_path / "missing", softmax=None, cross_entropy_cost=None),
        _submission(tmp_path / "syntax", softmax="def softmax(Z)\n  oops"),
        _submission(tmp_path / "crash", softmax="raise SystemExit(3)"),
        _submission(tmp_path / "wrong", softmax="def softmax(Z):\n    return Z"),
    )
    for report in reports:
        assert _by_function(report)["softmax_regression_step"]["passed"], report
        assert _by_function(report)["one_hot"]["passed"]


@pytest.mark.slow
def test_a_student_copy_is_graded_each_exercise_on_its_own(tmp_path):
    """06 from `make student` (tags, progress cell) with quadratic_cost left unsolved and
    minimize_quadratic solved: minimize_quadratic gets its points (issue 22)."""
    from helpers.course import release

    source = SOURCE.with_name("06_tensorflow_quadratic.ipynb")
    instructor = nbformat.read(source, as_version=4)
    student = release.student_version(instructor, source.name)
    solutions = {_grade_id(c): c.source for c in instructor.cells}
    for cell in student.cells:
        if _grade_id(cell) == "minimize_quadratic":
            cell.source = solutions["minimize_quadratic"]
    path = tmp_path / source.name
    nbformat.write(student, path)
    (report,) = _grade(path)
    results = _by_function(report)
    assert report["score"] == 2.0 and report["max_score"] == 3.0, report
    assert results["minimize_quadratic"]["passed"]
    assert "NotImplementedError (raised in quadratic_cost)" in results["quadratic_cost"]["feedback"]


def _grade_id(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id")


@pytest.mark.slow
def test_an_endless_loop_costs_its_exercise_and_the_batch_goes_on(tmp_path):
    looping = _submission(
        tmp_path / "loop",
        one_hot=(
            "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"
        ),
    )
    honest = _submission(tmp_path / "honest")
    loop, ok = _grade(looping, honest, limits=sandbox.Limits(wall_seconds=5))
    assert _by_function(loop)["one_hot"]["status"] == "timeout"
    assert loop["score"] == MAX - 1 and ok["score"] == MAX


@pytest.mark.slow
def test_cli_writes_reports_gradebook_and_item_analysis_and_fails_for_ungradable(tmp_path):
    good = _submission(tmp_path / "a", softmax="def softmax(Z):\n    return Z")
    bad = tmp_path / "b" / NAME
    bad.parent.mkdir()
    bad.write_text("{")
    out = tmp_path / "out"
    flags = [] if HAVE_SANDBOX else ["--no-sandbox"]
    code = grade.main(
        [
            str(good),
            str(bad),
            "--jobs",
            "2",
            "--json",
            str(out / "r.json"),
            "--gradebook",
            str(out / "grades.csv"),
            "--item-analysis",
            str(out / "items"),
            *flags,
        ]
    )
    assert code == 1  # one submission could not be graded
    reports = json.loads((out / "r.json").read_text())
    assert [r["score"] for r in reports] == [6.0, 0.0] and not reports[1]["graded"]
    rows = (out / "grades.csv").read_text().splitlines()
    assert rows[0].startswith("submission,notebook,graded,softmax,one_hot")
    assert rows[1].endswith(",0,1,2,3,6,8") and ",no," in rows[2]
    items = json.loads((out / "items.json").read_text())
    assert items["softmax"]["failed_share"] == 1.0
    assert items["softmax"]["cases"]["the worked example z = [5, 2, -1, 3]"]["failed_share"] == 1
    assert (out / "items.png").stat().st_size > 1000
