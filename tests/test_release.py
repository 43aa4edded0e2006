import re
from pathlib import Path

import nbformat
import pytest

from helpers import checks
from helpers.course import cells, release
from helpers.course.notebook_io import make_client

ANSI = re.compile(r"\x1b\[[0-9;]*m")
NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
WITH_EXERCISES = [
    p for p in NOTEBOOKS if any(e.notebook == p.stem for e in checks.EXERCISES.values())
]


def _solution_cells(nb):
    return [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    out = tmp_path_factory.mktemp("student")
    release.release(NOTEBOOKS, out)
    return out


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_solution_text_survives(path, released):
    instructor = nbformat.read(path, as_version=4)
    student = nbformat.read(released / path.name, as_version=4)
    added = 2 if path in WITH_EXERCISES else 0  # the closing progress cells
    assert len(student.cells) == len(instructor.cells) + added
    for before, after in zip(_solution_cells(instructor), _solution_cells(student), strict=True):
        solution = before.source.split(release.SOLUTION[0])[1].split(release.SOLUTION[1])[0]
        for line in filter(None, (x.strip() for x in solution.splitlines())):
            assert line not in after.source, f"solution line survived: {line!r}"
        assert "raise NotImplementedError()" in after.source
        assert after.metadata.nbgrader == before.metadata.nbgrader
    for cell in student.cells:
        if cell.cell_type == "code":
            assert "### BEGIN SOLUTION" not in cell.source and "HIDDEN TESTS" not in cell.source


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_outputs_and_widget_state_are_cleared(path, released):
    student = nbformat.read(released / path.name, as_version=4)
    assert "widgets" not in student.metadata
    for cell in student.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


@pytest.mark.parametrize("path", WITH_EXERCISES, ids=lambda p: p.name)
def test_each_check_fails_clearly_on_the_untouched_stub(path, released):
    student = nbformat.read(released / path.name, as_version=4)
    for cell in _solution_cells(student):
        name = cell.metadata.nbgrader["grade_id"]
        namespace = {"np": __import__("numpy")}
        exec(cell.source, namespace)
        with pytest.raises(
            checks.CheckFailure, match=rf"NotImplementedError \(raised in {name}\)\n  hint: replace"
        ):
            checks.EXERCISES[name].check(namespace[name])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_check_cells_let_run_all_go_on_in_the_student_copy_only(path, released):
    instructor = nbformat.read(path, as_version=4)
    student = nbformat.read(released / path.name, as_version=4)
    for before, after in zip(instructor.cells, student.cells, strict=False):
        tags = after.metadata.get("tags", [])
        assert (release.KEEP_RUNNING_TAG in tags) == cells.is_check(before)
        assert release.KEEP_RUNNING_TAG not in before.metadata.get("tags", [])
        assert after.metadata.get("nbgrader") == before.metadata.get("nbgrader")
    checks_tagged = sum(cells.is_check(c) for c in student.cells)
    assert checks_tagged == sum(e.notebook == path.stem for e in checks.EXERCISES.values())


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_a_notebook_with_exercises_ends_with_its_progress(path, released):
    student = nbformat.read(released / path.name, as_version=4)
    last = student.cells[-1]
    if path in WITH_EXERCISES:
        assert (
            last.source
            == f'from helpers.checks import progress\n\nprogress("{path.stem}", globals())'
        )
        assert student.cells[-2].source.startswith("## Your progress")
    else:
        assert "progress" not in last.source


@pytest.mark.slow
@pytest.mark.parametrize("path", WITH_EXERCISES, ids=lambda p: p.name)
def test_student_notebook_runs_past_its_unsolved_first_exercise(path, released):
    student = nbformat.read(released / path.name, as_version=4)
    first = next(
        i for i, c in enumerate(student.cells) if c.metadata.get("nbgrader", {}).get("solution")
    )
    # up to the first check and the cell after it; no allow_errors: the tag lets it go on
    student.cells = student.cells[: first + 4]
    client = make_client(student, cwd=path.parent, timeout=120, allow_errors=False)
    client.execute()
    ran = [c.execution_count for c in student.cells if c.cell_type == "code"]
    assert None not in ran, "a cell after the failing check did not run"
    errors = [
        (i, o.ename)
        for i, c in enumerate(student.cells)
        if c.cell_type == "code"
        for o in c.outputs
        if o.output_type == "error"
    ]
    assert errors == [(first + 1, "CheckFailure")], "only the first check may fail"
    check_output = student.cells[first + 1].outputs[0]
    assert "NotImplementedError" in check_output.evalue and "hint:" in check_output.evalue
    # What the learner sees is the message, line for line: none of the checker's source
    shown = [ANSI.sub("", line) for line in check_output.traceback]
    assert shown == check_output.evalue.splitlines()
    for checker_text in ("Traceback", "File ", "helpers/checks", "run_cases", "raise CheckFailure"):
        assert not any(checker_text in line for line in shown), checker_text


def test_a_copy_the_student_edited_is_never_overwritten(tmp_path):
    source = NOTEBOOKS[-1]
    out = tmp_path / "student"
    assert release.release([source], out)[0].startswith("✓")
    assert release.release([source], out)[0].startswith("=")
    target = out / source.name
    edited = nbformat.read(target, as_version=4)
    edited.cells[0].source += "\nmy notes"
    nbformat.write(edited, target)
    # the instructor changes the notebook; the student's copy must survive the next release
    changed = tmp_path / source.name
    nb = nbformat.read(source, as_version=4)
    nb.cells[0].source += "\nerratum"
    nbformat.write(nb, changed)
    line = release.release([changed], out)[0]
    assert line.startswith("!") and "--force" in line
    assert "my notes" in target.read_text()
    assert "erratum" in (out / f"{source.stem}.fresh.ipynb").read_text()
    assert release.release([changed], out, force=True)[0].startswith("✓")
    assert "my notes" not in target.read_text() and "erratum" in target.read_text()


def test_an_unchanged_copy_is_updated_without_force(tmp_path):
    source = NOTEBOOKS[-1]
    out = tmp_path / "student"
    release.release([source], out)
    changed = tmp_path / source.name
    nb = nbformat.read(source, as_version=4)
    nb.cells[0].source += "\nerratum"
    nbformat.write(nb, changed)
    assert release.release([changed], out)[0].startswith("✓")
    assert "erratum" in (out / source.name).read_text()


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("### BEGIN SOLUTION\nx = 1\n", "never closed"),
        ("x = 1\n### END SOLUTION\n", "without"),
        ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n", "inside another"),
    ],
)
def test_malformed_markers_are_reported_with_the_cell(source, message):
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = {"solution": True, "grade": False, "grade_id": "x"}
    nb = nbformat.v4.new_notebook(cells=[cell])
    with pytest.raises(ValueError, match=rf"demo\.ipynb, cell 0: .*{message}"):
        release.student_version(nb, "demo.ipynb")


def test_markers_outside_a_solution_cell_are_refused():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("### BEGIN SOLUTION\n")])
    with pytest.raises(ValueError, match="outside an nbgrader solution cell"):
        release.student_version(nb, "demo.ipynb")


def test_hidden_tests_are_removed_from_check_cells():
    cell = nbformat.v4.new_code_cell(
        "check(f)\n### BEGIN HIDDEN TESTS\nassert f(2) == 4\n### END HIDDEN TESTS\n"
    )
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "grade_id": "t", "points": 1}
    out = release.student_version(nbformat.v4.new_notebook(cells=[cell]))
    assert out.cells[0].source == "check(f)"
