"""Gradescope's autograder format: ``--format gradescope`` and ``make gradescope-autograder``.

Gradescope runs ``/autograder/run_autograder`` once per submission (after
``/autograder/source/setup.sh`` built the image) with the submission in
``/autograder/submission/`` and reads ``/autograder/results/results.json``: a list of tests, each
with a name, a score, a maximum, an output and a visibility. Here every case is a test; an
exercise's points are shared among its cases and given only when all of them pass (scoring is
all or nothing per exercise, as in the grader's own report). Hidden cases are shown to the
student only after the grades are published (``after_published``), without their expected
values, like every hidden case's message.
"""


def results(report) -> dict:
    """Gradescope's ``results.json`` for one :class:`~.reports.Report`."""
    tests = []
    for verdict in report.verdicts:
        share = verdict.max_points / max(len(verdict.cases), 1)
        for case in verdict.cases:
            kind = "hidden case" if case.hidden else "case"
            tests.append(
                {
                    "name": f"{verdict.function} — {kind} {case.case!r}",
                    "score": round(share, 4) if verdict.passed else 0.0,
                    "max_score": round(share, 4),
                    "output": "passed" if case.passed else (case.message or "failed"),
                    "visibility": "after_published" if case.hidden else "visible",
                }
            )
    output = "\n".join(report.notes)
    if not report.graded:
        output = "Not graded: " + (output or "see the course staff")
    return {"score": report.score, "output": output, "tests": tests}
