"""``--feedback DIR``: one HTML page per submission that a student can be given.

Each page shows, per exercise, the cell as submitted, the points, and every case's verdict with
its explanation and hint (a hidden case's without its expected value) — what nbgrader's
``generate_feedback`` gives, from this grader's report. Pages are static HTML with no script;
everything the student wrote is escaped.
"""

import hashlib
import html
import re
from pathlib import Path

from helpers.course.notebook_io import write_text_atomically

STYLE = (
    "body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em}"
    "pre{background:#f6f6f6;padding:.6em;overflow-x:auto}"
    ".passed{color:#17692b}.failed{color:#a31515}"
    "table{border-collapse:collapse}td,th{padding:.2em .6em;text-align:left}"
)


def page_name(submission: str) -> str:
    """A file name for a submission's page: readable, unique, and safe whatever it is called."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(submission).stem)[:60] or "submission"
    return f"{stem}-{hashlib.sha256(submission.encode()).hexdigest()[:8]}.html"


def page(report) -> str:
    """The HTML page of one :class:`~.reports.Report`."""
    e = html.escape
    title = f"Feedback: {Path(report.submission).name}"
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="en"><head><meta charset="utf-8"><title>{e(title)}</title>',
        f"<style>{STYLE}</style></head><body>",
        f"<h1>{e(title)}</h1>",
        f"<p>Assignment: {e(report.notebook or 'unknown')} · score "
        f"<b>{report.score:g} / {report.max_score:g}</b></p>",
    ]
    if not report.graded:
        parts.append("<p class=failed>Not graded.</p>")
    parts += [f"<p>{e(note)}</p>" for note in report.notes]
    for verdict in report.verdicts:
        status = "passed" if verdict.passed else "failed"
        hidden = [c for c in verdict.cases if c.hidden]
        parts += [
            f"<h2>{e(verdict.function)} — <span class={status}>{verdict.points:g} / "
            f"{verdict.max_points:g}</span></h2>",
            "<h3>Your cell</h3>",
            f"<pre>{e(report.cells.get(verdict.function) or '(no cell with this grade_id)')}</pre>",
            f"<p>{e(verdict.feedback.splitlines()[0]) if verdict.feedback else ''}</p>",
            "<table><tr><th>case</th><th>result</th></tr>",
        ]
        for case in verdict.cases:
            kind = "hidden case" if case.hidden else "case"
            mark = "✓" if case.passed else "✗"
            parts.append(
                f"<tr><td>{e(kind)} “{e(case.case)}”</td>"
                f"<td class={'passed' if case.passed else 'failed'}>{mark}</td></tr>"
            )
        parts.append("</table>")
        if hidden:
            parts.append(
                f"<p>{len(hidden)} hidden case(s): inputs drawn when grading; their expected "
                "values are not shown.</p>"
            )
        failures = [c.message for c in verdict.cases if c.message]
        parts += [f"<pre>{e(message)}</pre>" for message in failures]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_pages(reports, folder: Path) -> list:
    """Write one page per report into ``folder``; return the paths."""
    paths = []
    for report in reports:
        path = Path(folder) / page_name(report.submission)
        write_text_atomically(page(report), path)
        paths.append(path)
    return paths
