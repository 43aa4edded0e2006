"""``--similarity``: cells that match after normalising, and those that match the solution."""

from grading_support import NOTEBOOKS

from helpers.course.grading import similarity
from helpers.course.grading.reports import Report

ALICE = """def softmax(Z):
    \"\"\"Column softmax.\"\"\"
    top = Z.max(axis=0, keepdims=True)  # stable
    ones = np.ones((1, Z.shape[0]))
    exps = np.exp(Z - top)
    return exps / (ones @ exps)
"""
# Bob renamed everything, dropped the docstring, reworded the comment and swapped two
# independent lines
BOB = """def softmax(logits):
    row = np.ones((1, logits.shape[0]))
    m = logits.max(axis=0, keepdims=True)
    # my own work
    e = np.exp(logits - m)
    return e / (row @ e)
"""
CAROL = """def softmax(Z):
    log_total = np.log(np.exp(Z - Z.max(axis=0)).sum(axis=0)) + Z.max(axis=0)
    return np.exp(Z - log_total)
"""
DAN = """def softmax(Z):
    result = np.empty_like(Z, dtype=float)
    for j in range(Z.shape[1]):
        column = np.exp(Z[:, j] - np.max(Z[:, j]))
        result[:, j] = column / column.sum()
    return result
"""
PASTED = """def softmax(Z):
    T = np.exp(Z - Z.max(axis=0, keepdims=True))
    A = T / T.sum(axis=0, keepdims=True)
    return A
"""


def _report(name, source):
    report = Report(name, "05_softmax_regression")
    report.cells = {"softmax": source}
    return report


def _found(**sources):
    reports = [_report(name, source) for name, source in sources.items()]
    return similarity.report(reports, NOTEBOOKS)["softmax"]


def test_a_renamed_reordered_copy_is_flagged_and_honest_solutions_are_not():
    found = _found(alice=ALICE, bob=BOB, carol=CAROL, dan=DAN)
    assert [pair["submissions"] for pair in found["pairs"]] == [["alice", "bob"]]
    assert found["pairs"][0]["match"] == "identical after normalising"
    assert found["like_the_solution"] == []


def test_a_pasted_solution_is_flagged():
    found = _found(erin=PASTED, carol=CAROL)
    assert found["like_the_solution"] == ["erin"] and found["pairs"] == []


def test_untouched_exercise_cells_match_nothing():
    stub = "def softmax(Z):\n    # YOUR CODE HERE\n    raise NotImplementedError()"
    assert similarity.report([_report("a", stub), _report("b", stub)], NOTEBOOKS) == {}


def test_a_cell_that_does_not_parse_is_left_out():
    assert similarity.normalise("def softmax(Z)\n  oops", "softmax") is None
