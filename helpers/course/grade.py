"""The autograder: ``python -m helpers.course.grade SUBMISSION.ipynb [...] [--json PATH]``.

A submission runs in a fresh kernel, cell by cell with a per-cell timeout, without the check
cells the student had (they may have been edited). Then the canonical check of every graded
function of that notebook (``helpers.checks.EXERCISES``) runs in the same kernel. A syntax
error, an exception, an endless loop, a crashed kernel or a deleted function costs only the
points of the exercise it touches; the grader itself reports and carries on.
"""

import argparse
import contextlib
import copy
import importlib
import io
import json
import secrets
import sys
from collections import Counter
from pathlib import Path

from nbclient.exceptions import DeadKernelError
from nbformat.v4 import new_code_cell, new_notebook

from helpers.checks import EXERCISES
from helpers.course.notebook_io import make_client, read_notebook

MAX_KERNEL_RESTARTS = 3


# ---- inside the submission's kernel ---------------------------------------------------------


def _fresh_checks():
    """Import ``helpers.checks`` and its submodules anew from their files, then put back the
    modules the submission's kernel had, so its own imports keep working."""
    stale = {
        name: sys.modules.pop(name)
        for name in list(sys.modules)
        if name == "helpers.checks" or name.startswith("helpers.checks.")
    }
    try:
        return importlib.import_module("helpers.checks")
    finally:
        for name in [n for n in sys.modules if n.startswith("helpers.checks")]:
            del sys.modules[name]
        sys.modules.update(stale)
        if "helpers.checks" in stale:
            sys.modules["helpers"].checks = stale["helpers.checks"]


def report_check(function_name: str, namespace: dict, marker: str) -> None:
    """Run the canonical check of ``namespace[function_name]`` and print one marked JSON line.

    Called by the grader inside the submission's kernel. The checks module is loaded afresh
    from its file, so a submission that reassigned ``helpers.checks.check_...`` is not trusted.
    """
    checks = _fresh_checks()
    exercise = checks.EXERCISES[function_name]
    function = namespace.get(function_name)
    if function is None:
        passed, feedback = (
            False,
            (
                f"✗ {function_name} is not defined: was its exercise cell deleted, renamed, or did "
                "it fail to run?"
            ),
        )
    else:
        printed = io.StringIO()
        try:
            with contextlib.redirect_stdout(printed):
                exercise.check(function)
            passed, feedback = True, printed.getvalue().strip()
        except checks.CheckFailure as failure:
            passed, feedback = False, str(failure)
        except Exception as error:  # a check must never take the grader down
            passed, feedback = False, f"✗ {function_name}: {type(error).__name__}: {error}"
    print(marker + json.dumps({"function": function_name, "passed": passed, "feedback": feedback}))


# ---- in the grader's process ------------------------------------------------------------------


def _identify_notebook(nb, path: Path):
    """Return the notebook stem whose exercises this submission holds, or None."""
    by_id = {}
    for exercise in EXERCISES.values():
        by_id[exercise.function] = by_id[exercise.check_grade_id] = exercise.notebook
    found = Counter(
        by_id[cell.metadata["nbgrader"].get("grade_id")]
        for cell in nb.cells
        if cell.metadata.get("nbgrader", {}).get("grade_id") in by_id
    )
    if found:
        return found.most_common(1)[0][0]
    stems = {e.notebook for e in EXERCISES.values()}
    return next((stem for stem in sorted(stems) if stem in path.stem), None)


def _is_check_cell(cell) -> bool:
    return bool(cell.metadata.get("nbgrader", {}).get("grade"))


def _first_error(cell, timeout=None):
    for output in cell.get("outputs", []):
        if output.output_type == "error":
            if output.ename in ("KeyboardInterrupt", "TimeoutError"):
                return f"TimeoutError: it ran longer than {timeout} s and was interrupted"
            return f"{output.ename}: {output.evalue}".strip()
    return None


def _execute(cells, functions, *, cwd: Path, timeout: int, marker: str):
    """Execute ``cells`` then one grading cell per function, restarting after kernel crashes.

    Returns ``(executed_cells, grading_cells, notes, crashed_checks)``: a cell that crashes the
    kernel is left out of the next attempt; a grading cell that does is named in
    ``crashed_checks`` and not run again.
    """
    notes, skipped, crashed_checks = [], set(), set()
    for _ in range(MAX_KERNEL_RESTARTS + 1):
        work = [copy.deepcopy(c) for i, c in enumerate(cells) if i not in skipped]
        origin = [i for i in range(len(cells)) if i not in skipped]
        grading = {
            name: new_code_cell(
                "import helpers.course.grade\n"
                f"helpers.course.grade.report_check({name!r}, globals(), {marker!r})"
            )
            for name in functions
            if name not in crashed_checks
        }
        nb = new_notebook(cells=work + list(grading.values()))
        client = make_client(nb, cwd=cwd, timeout=timeout, allow_errors=True)
        client.error_on_timeout = {
            "ename": "TimeoutError",
            "evalue": f"the cell ran longer than {timeout} s and was interrupted",
        }
        position = 0
        try:
            with client.setup_kernel(cwd=str(cwd)):
                for position, cell in enumerate(nb.cells):
                    client.execute_cell(cell, position)
        except DeadKernelError:
            if position < len(work):
                skipped.add(origin[position])
                notes.append(
                    f"cell {origin[position] + 1} crashed the kernel; graded without that cell"
                )
            else:
                crashed_checks.add(list(grading)[position - len(work)])
            continue
        except Exception as error:  # the kernel would not start, or the client failed
            notes.append(f"the notebook could not be run: {type(error).__name__}: {error}")
            return work, {}, notes, crashed_checks
        return work, grading, notes, crashed_checks
    notes.append(f"gave up after {MAX_KERNEL_RESTARTS} kernel crashes")
    return [], {}, notes, crashed_checks


def _parse(grading_cell, marker: str):
    for output in grading_cell.get("outputs", []):
        if output.output_type == "stream":
            for line in output.text.splitlines():
                if line.startswith(marker):
                    return json.loads(line[len(marker) :])
    return None


def grade_notebook(path, *, timeout: int = 60) -> dict:
    """Grade one submission; return the report (see ``--json``). Never raises for a bad file."""
    path = Path(path)
    report = {
        "submission": str(path),
        "notebook": None,
        "score": 0.0,
        "max_score": 0.0,
        "exercises": [],
        "notes": [],
    }
    try:
        nb = read_notebook(path)
    except (FileNotFoundError, ValueError) as error:
        report["notes"].append(str(error))
        return report
    notebook = _identify_notebook(nb, path)
    if notebook is None:
        report["notes"].append("no graded exercise of this course was found in the notebook")
        return report
    report["notebook"] = notebook
    exercises = [e for e in EXERCISES.values() if e.notebook == notebook]
    report["max_score"] = float(sum(e.points for e in exercises))

    cells = [c for c in nb.cells if c.cell_type == "code" and not _is_check_cell(c)]
    marker = f"@@grade-{secrets.token_hex(8)}@@"  # unknown to the submission, so not forgeable
    executed, grading, notes, crashed = _execute(
        cells, [e.function for e in exercises], cwd=path.parent, timeout=timeout, marker=marker
    )
    report["notes"].extend(notes)
    solution_cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in executed}
    for exercise in exercises:
        result = (
            _parse(grading[exercise.function], marker) if exercise.function in grading else None
        )
        if result is None:
            why = (
                "crashed the kernel"
                if exercise.function in crashed
                else _first_error(grading.get(exercise.function, {}), timeout)
                or "produced no result"
            )
            result = {"passed": False, "feedback": f"✗ {exercise.function}: the check {why}"}
        feedback = result["feedback"]
        cell_error = _first_error(solution_cells.get(exercise.function, {}), timeout)
        if not result["passed"] and cell_error:
            feedback = f"the exercise cell raised {cell_error}\n{feedback}"
        points = float(exercise.points) if result["passed"] else 0.0
        report["exercises"].append(
            {
                "grade_id": exercise.check_grade_id,
                "function": exercise.function,
                "points": points,
                "max_points": float(exercise.points),
                "passed": result["passed"],
                "feedback": feedback,
            }
        )
        report["score"] += points
    return report


def format_report(report: dict) -> str:
    """Return the human-readable table of one report."""
    lines = [f"{report['submission']}  ({report['notebook'] or 'unknown notebook'})"]
    lines += [f"  note: {note}" for note in report["notes"]]
    if report["exercises"]:
        width = max(len(e["function"]) for e in report["exercises"])
        lines.append(f"  {'exercise':<{width}}  points  result  feedback")
        for e in report["exercises"]:
            first = e["feedback"].splitlines()[0] if e["feedback"] else ""
            lines.append(
                f"  {e['function']:<{width}}  {e['points']:>2.0f}/{e['max_points']:<2.0f}   "
                f"{'passed' if e['passed'] else 'failed'}  {first}"
            )
    lines.append(f"  total {report['score']:g}/{report['max_score']:g}")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Grade submitted notebooks.")
    parser.add_argument("submissions", nargs="+", type=Path)
    parser.add_argument("--json", type=Path, help="write the machine-readable report here")
    parser.add_argument("--timeout", type=int, default=60, help="seconds per cell (default 60)")
    args = parser.parse_args(argv)
    if args.timeout <= 0:
        parser.error("--timeout must be a positive number of seconds")
    reports = []
    for submission in args.submissions:
        report = grade_notebook(submission, timeout=args.timeout)
        print(format_report(report), flush=True)
        reports.append(report)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = reports[0] if len(reports) == 1 else reports
        args.json.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
