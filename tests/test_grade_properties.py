"""Property-based (Hypothesis): no malformed notebook and no malformed result data stops a
batch, and an honest neighbour keeps its grade.

Reading and judging are tried on many generated inputs here, fast; whole batches, with the
malformed results written by submissions into their own result pipes in the sandbox, in
``make test-grader-security`` (marked ``slow``).
"""

import json

import pytest
from grading_support import MAX, NAME, UNSOLVED, by_function, grade_all, submission
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers.course import grade
from helpers.course.grading import verdict
from helpers.course.grading.run import ExerciseRun
from helpers.course.grading.submission import Unreadable, read_submission

ASSIGNMENTS = sorted({"05_softmax_regression", "01_tuning_process"})

# Any JSON value, and JSON shaped like a notebook with cells of any metadata.
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
GRADE_IDS = st.sampled_from(["softmax", "one_hot", "check_softmax", "", "x y"]) | JSON
CELL = st.fixed_dictionaries(
    {
        "cell_type": st.sampled_from(["code", "markdown", "raw"]) | JSON,
        "source": st.text(max_size=40) | st.lists(st.text(max_size=10), max_size=3) | JSON,
        "metadata": st.fixed_dictionaries(
            {},
            optional={
                "nbgrader": JSON
                | st.fixed_dictionaries({}, optional={"grade_id": GRADE_IDS, "solution": JSON}),
                "course": JSON,
            },
        )
        | JSON,
        "execution_count": st.integers() | JSON,
    }
)
NOTEBOOK = st.fixed_dictionaries({"cells": st.lists(CELL | JSON, max_size=8)}) | JSON
# What a submission's process may write into its result pipe: valid JSON of any shape, the
# observations' shape with any content in it, or bytes.
OBSERVATION = st.dictionaries(
    st.sampled_from(["result", "error", "args_after", "recorded", "probe", "again"]) | st.text(),
    JSON
    | st.fixed_dictionaries(
        {
            "$array": st.text(max_size=12),
            "dtype": st.sampled_from(["<f8", "|O", "V8", "<i4", "x"]) | JSON,
            "shape": st.lists(st.integers(-2, 3), max_size=70) | JSON,
        }
    ),
    max_size=4,
)
RESULT = (
    st.fixed_dictionaries(
        {"found": st.booleans() | JSON, "observations": st.lists(OBSERVATION | JSON, max_size=8)},
        optional={"cell_error": JSON},
    ).map(lambda d: json.dumps(d).encode())
    | JSON.map(lambda d: json.dumps(d).encode())
    | st.binary(max_size=200)
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(notebook=NOTEBOOK)
def test_reading_any_notebook_gives_a_submission_or_a_reason(tmp_path, notebook):
    path = tmp_path / NAME
    path.write_text(json.dumps(notebook))
    try:
        read = read_submission(path, ASSIGNMENTS)
    except Unreadable as why:
        assert str(why)
        return
    assert read.assignment == "05_softmax_regression"
    assert all(isinstance(cell.source, str) for cell in read.cells.values())


@pytest.fixture(scope="module")
def tables():
    grader = grade.Grader(sandboxed=False, seed=3)
    try:
        yield grader.tables
    finally:
        grader.close()


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=RESULT, function=st.sampled_from(["softmax", "one_hot", "grid_search", "zoom_in"]))
def test_judging_any_result_never_raises_and_never_gives_points(tables, raw, function):
    run = ExerciseRun(function, raw, 0, None)
    judged = verdict.judge_run(tables[function], run, {"cpu": "", "wall": "", "result": ""})
    assert judged.points == 0 and judged.status in ("failed", "missing", "crashed")
    json.dumps(judged.as_dict(), allow_nan=False)


FORGE = (
    "import os\n"
    "for fd in os.listdir('/proc/self/fd'):\n"
    "    try:\n"
    "        os.write(int(fd), {raw!r}) if int(fd) > 2 else None\n"
    "    except OSError:\n"
    "        pass\n"
    "os._exit(0)\n"
)


@pytest.mark.slow
@pytest.mark.usefixtures("needs_sandbox")
@settings(
    max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(results=st.lists(RESULT, min_size=2, max_size=2), notebook=NOTEBOOK)
def test_a_batch_with_malformed_notebooks_and_results_grades_the_neighbour(
    tmp_path_factory, results, notebook
):
    root = tmp_path_factory.mktemp("batch")
    forgers = [
        submission(root / f"forger{i}", **{**UNSOLVED, "softmax": FORGE.format(raw=raw)})
        for i, raw in enumerate(results)
    ]
    malformed = root / "malformed" / NAME
    malformed.parent.mkdir()
    malformed.write_text(json.dumps(notebook))
    neighbour = submission(root / "neighbour")
    *attackers, odd, honest = grade_all(*forgers, malformed, neighbour)
    assert honest["score"] == MAX and honest["graded"]
    for report in attackers:
        assert report["graded"] and report["score"] == 0
        assert by_function(report)["softmax"]["points"] == 0
    assert odd["score"] == 0 and (odd["graded"] or odd["notes"])
    json.dumps([*attackers, odd, honest], allow_nan=False)
