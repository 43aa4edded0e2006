"""Reporting: what the instructor reads — the table, the JSON report, the CSV gradebook and the
item analysis. Everything a student chose (a file name, a message) is data here: control
characters never reach the table, a gradebook cell never starts a spreadsheet formula (OWASP's
CSV-injection rule), and every JSON file is strict (no NaN or Infinity).
"""

import csv
import io
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from helpers.course.notebook_io import write_text_atomically

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def printable(text: str) -> str:
    """``text`` with control characters shown as escapes (``\\n`` as ``\\x0a``): one line."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))


def spreadsheet_safe(cell: str) -> str:
    """A CSV cell a spreadsheet shows as text: prefixed with ``'`` when it starts like a formula
    (OWASP), control characters escaped."""
    cell = str(cell)
    if cell.startswith(_FORMULA_START):
        cell = "'" + cell
    return printable(cell)


def strict_json(data) -> str:
    """JSON text that every parser reads: NaN or Infinity anywhere is an error."""
    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def write_json(data, path) -> None:
    write_text_atomically(strict_json(data), path)


@dataclass
class Report:
    """One submission's report (``as_dict`` is the JSON form)."""

    submission: str
    notebook: str | None
    graded: bool = False
    verdicts: list = field(default_factory=list)  # Verdict per exercise
    notes: list = field(default_factory=list)
    max_score: float = 0.0
    seconds: float = 0.0
    setup_seconds: float | None = None
    grader_fault: bool = False  # not graded because of the grader, not the submission
    cells: dict = field(default_factory=dict)  # function -> the source graded (for feedback)

    @property
    def score(self) -> float:
        return float(sum(v.points for v in self.verdicts))

    def as_dict(self) -> dict:
        return {
            "submission": self.submission,
            "notebook": self.notebook,
            "graded": self.graded,
            "score": self.score,
            "max_score": self.max_score,
            "exercises": [v.as_dict() for v in self.verdicts],
            "notes": list(self.notes),
            "seconds": round(self.seconds, 2),
            "setup_seconds": self.setup_seconds,
        }


def format_report(report: dict) -> str:
    """Return the human-readable table of one report."""
    lines = [f"{printable(report['submission'])}  ({report['notebook'] or 'unknown notebook'})"]
    lines += [f"  note: {printable(note)}" for note in report["notes"]]
    if not report["graded"]:
        lines.append("  NOT GRADED")
    if report["exercises"]:
        width = max(len(e["function"]) for e in report["exercises"])
        lines.append(f"  {'exercise':<{width}}  points  result   feedback")
        for e in report["exercises"]:
            first = printable(e["feedback"].splitlines()[0]) if e["feedback"] else ""
            lines.append(
                f"  {e['function']:<{width}}  {e['points']:>2.0f}/{e['max_points']:<2.0f}   "
                f"{e['status']:<7}  {first}"
            )
    lines.append(f"  total {report['score']:g}/{report['max_score']:g}")
    return "\n".join(lines)


def gradebook_csv(reports, functions) -> str:
    """One row per submission, one column per exercise (in ``functions``' order, those graded),
    then total and max (LMS-importable)."""
    graded = {e["function"] for r in reports for e in r["exercises"]}
    used = [f for f in functions if f in graded]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["submission", "notebook", "graded", *used, "total", "max"])
    for report in reports:
        points = {e["function"]: e["points"] for e in report["exercises"]}
        writer.writerow(
            [
                spreadsheet_safe(report["submission"]),
                spreadsheet_safe(report["notebook"] or ""),
                "yes" if report["graded"] else "no",
                *(f"{points[f]:g}" if f in points else "" for f in used),
                f"{report['score']:g}",
                f"{report['max_score']:g}",
            ]
        )
    return out.getvalue()


def item_analysis(reports) -> dict:
    """Per exercise and per case: how many submissions fail it, and the commonest messages."""
    exercises = {}
    for report in reports:
        for e in report["exercises"]:
            item = exercises.setdefault(
                e["function"],
                {"submissions": 0, "failed": 0, "messages": Counter(), "cases": {}},
            )
            item["submissions"] += 1
            if not e["passed"]:
                item["failed"] += 1
                # the case and the hint, without the student's numbers
                lines = e["feedback"].splitlines()
                summary = " / ".join(
                    line.strip()
                    for line in lines[:4]
                    if line.startswith(("✗", "  hint", "the exercise cell raised"))
                )
                item["messages"][re.sub(r"\s+", " ", summary)[:200]] += 1
            hidden = [{**c, "case": f"hidden: {c['case']}"} for c in e["hidden_cases"]["cases"]]
            for case in [*e["cases"], *hidden]:
                counts = item["cases"].setdefault(case["case"], [0, 0])
                counts[0] += 1
                counts[1] += not case["passed"]
    return {
        name: {
            "submissions": item["submissions"],
            "failed_share": item["failed"] / item["submissions"],
            "common_failures": item["messages"].most_common(3),
            "cases": {
                case: {"failed_share": failed / total}
                for case, (total, failed) in item["cases"].items()
            },
        }
        for name, item in exercises.items()
    }


def item_analysis_chart(analysis: dict, path: Path) -> None:
    """One bar chart: the share of submissions failing each exercise."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(analysis)
    shares = [100 * analysis[n]["failed_share"] for n in names]
    fig, ax = plt.subplots(figsize=(6.4, 0.4 * len(names) + 1.2))
    ax.barh(names, shares)
    ax.set_xlim(0, 100)
    ax.set_xlabel("submissions failing (%)")
    ax.set_title("Which exercises the class missed")
    ax.invert_yaxis()
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(buffer.getvalue())
    tmp.replace(path)
