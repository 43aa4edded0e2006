"""Reading a submission: the notebook a student handed in, taken as untrusted data.

The file is read as JSON (not validated by nbformat, which took 26 s on a 100,000-cell notebook)
and refused at once above :data:`MAX_BYTES` or :data:`MAX_CELLS`. Only what grading needs is
taken from it: which assignment it answers (from its file name, or ``--assignment``) and the
source of each exercise cell, found by its nbgrader ``grade_id``. Metadata of the wrong type
counts as absent (:mod:`helpers.course.cells`). When several cells carry one exercise's
``grade_id`` (a copied cell keeps its metadata), the one the student ran last is graded
(highest execution count, else the last), and the report says so.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path

from helpers.course import cells

MAX_BYTES = 20 * 1024**2
MAX_CELLS = 5000


class Unreadable(ValueError):
    """The file cannot be graded; the message says why, for the report."""


@dataclass(frozen=True)
class ExerciseCell:
    """The cell graded for one exercise."""

    source: str
    index: int  # its position in the notebook, from 1


@dataclass
class Submission:
    """What grading takes from a submission."""

    path: Path
    assignment: str
    cells: dict[str, ExerciseCell]  # function -> its cell
    notes: list[str] = field(default_factory=list)


def identify(path: Path, assignments, assignment=None):
    """The assignment a submission answers, from ``--assignment`` or its file name, or None."""
    if assignment:
        return assignment if assignment in assignments else None
    matches = [stem for stem in assignments if path.stem.startswith(stem)]
    return max(matches, key=len) if matches else None


def read_cells(path: Path) -> list:
    """The notebook's cells as plain dicts; raise Unreadable for anything that is not a
    notebook of a gradable size."""
    try:
        size = path.stat().st_size
    except OSError:
        raise Unreadable(f"notebook not found: {path}") from None
    if not path.is_file():
        raise Unreadable(f"notebook not found: {path}")
    if size > MAX_BYTES:
        raise Unreadable(f"the notebook is {size / 1024**2:.0f} MB: over {MAX_BYTES // 1024**2} MB")
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise Unreadable(f"{path} is not a readable notebook: {str(error)[:200]}") from None
    notebook_cells = data.get("cells") if isinstance(data, dict) else None
    if not isinstance(notebook_cells, list):
        raise Unreadable(f"{path} is not a readable notebook: it has no list of cells")
    if len(notebook_cells) > MAX_CELLS:
        raise Unreadable(f"the notebook has {len(notebook_cells)} cells: over {MAX_CELLS}")
    return notebook_cells


def exercise_cells(notebook_cells: list, functions) -> tuple:
    """Return ``({function: ExerciseCell}, notes)``: for each function the code cell whose
    ``grade_id`` is its name; of several, the one run last."""
    found, notes = {}, []
    for index, cell in enumerate(notebook_cells, start=1):
        if not isinstance(cell, dict):
            continue
        metadata = cell.get("metadata")
        if isinstance(metadata, dict) and "nbgrader" in metadata and cells.grade_id(cell) is None:
            notes.append(f"cell {index}: its nbgrader metadata is malformed; ignored")
        name = cells.grade_id(cell)
        if cells.cell_type(cell) != "code" or name not in functions:
            continue
        found.setdefault(name, []).append((index, cell))
    chosen = {}
    for name, candidates in found.items():
        counts = [c.get("execution_count") for _, c in candidates]
        runs = [n if isinstance(n, int) and not isinstance(n, bool) else -1 for n in counts]
        pick = max(range(len(candidates)), key=lambda i: (runs[i], i))
        index, cell = candidates[pick]
        chosen[name] = ExerciseCell(cells.source(cell), index)
        if len(candidates) > 1:
            how = (
                f"the one run last (execution count {runs[pick]})"
                if runs[pick] >= 0
                else "the last (none was run)"
            )
            notes.append(
                f"{len(candidates)} cells carry grade_id {name!r}: graded cell {index}, {how}"
            )
    return chosen, notes


def read_submission(path, assignments, assignment=None) -> Submission:
    """Read one submission; raise Unreadable saying why it cannot be graded."""
    path = Path(path)
    answers = identify(path, assignments, assignment)
    notebook_cells = read_cells(path)
    if answers is None:
        raise Unreadable(
            "cannot tell which assignment this is: name the file after the notebook "
            f"(e.g. {sorted(assignments)[0]}.ipynb) or pass --assignment"
        )
    from helpers.checks import EXERCISES

    functions = {e.function for e in EXERCISES.values() if e.notebook == answers}
    found, notes = exercise_cells(notebook_cells, functions)
    if not found:
        notes.append(f"the notebook holds none of {answers}'s exercise cells")
    return Submission(path, answers, found, notes)
