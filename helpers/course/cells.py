"""What a notebook cell is, in one place: every tool (grade, release, slides) asks here.

A cell's kind comes from its metadata, never from its text:

- ``exercise``: an nbgrader solution cell (``metadata.nbgrader.solution``); a code exercise's
  ``grade_id`` is the name of the function it defines.
- ``check``: a code cell nbgrader grades (``grade: true``, not a solution): ``check_<name>(name)``.
- ``setup``: a code cell marked ``metadata.course.setup``: the only cells, besides the exercise
  cells, that the grader runs (opt-in: a new cell is never run when grading by accident).
- ``notes``: a speaker-notes cell made by ``slides annotate`` (``metadata.course.notes_for``, the
  section's heading; ``notes_digest``, the digest of the text the tool wrote into it).
- ``progress``: the closing cells ``release`` adds to a student copy (``metadata.course.progress``).
- ``demo``: any other code cell: a demonstration, run in the lesson, never when grading.
- ``text``: any other markdown or raw cell.

A submission's metadata is the student's to change: what is not of the expected type (an
``nbgrader`` that is not a dict, a ``grade_id`` that is not a name) counts as absent.
"""

import re

COURSE_KEY = "course"  # metadata.course: this project's own marks
KINDS = ("exercise", "check", "setup", "notes", "progress", "demo", "text")
NOTES_FOR = "notes_for"  # metadata.course.<this>: the heading a notes cell belongs to
NOTES_DIGEST = "notes_digest"  # metadata.course.<this>: digest of the text the tool wrote
# metadata.course.<this>: the quiz questions a cell's output settles; pages fold that output away
ANSWERS = "answers"
GRADE_ID = re.compile(r"[a-zA-Z0-9_\-]{1,100}")  # nbgrader's pattern (non-empty here)


def _metadata(cell) -> dict:
    metadata = cell.get("metadata") if isinstance(cell, dict) else None
    return metadata if isinstance(metadata, dict) else {}


def nbgrader(cell) -> dict:
    """The cell's nbgrader metadata, or ``{}`` when it has none or it is not a dict."""
    value = _metadata(cell).get("nbgrader")
    return value if isinstance(value, dict) else {}


def course(cell) -> dict:
    """The cell's ``metadata.course``, or ``{}`` when it has none or it is not a dict."""
    value = _metadata(cell).get(COURSE_KEY)
    return value if isinstance(value, dict) else {}


def grade_id(cell) -> str | None:
    """The cell's nbgrader ``grade_id`` when it is a valid one (a short name), else None."""
    value = nbgrader(cell).get("grade_id")
    return value if isinstance(value, str) and GRADE_ID.fullmatch(value) else None


def cell_type(cell) -> str:
    value = cell.get("cell_type") if isinstance(cell, dict) else None
    return value if isinstance(value, str) else ""


def is_solution(cell) -> bool:
    """An nbgrader solution cell (code or written answer)."""
    return nbgrader(cell).get("solution") is True


def is_check(cell) -> bool:
    """A code cell nbgrader grades that is not a solution: an exercise's check cell."""
    meta = nbgrader(cell)
    return cell_type(cell) == "code" and meta.get("grade") is True and not is_solution(cell)


def is_setup(cell) -> bool:
    """A code cell marked ``metadata.course.setup``: run before the exercises when grading."""
    return cell_type(cell) == "code" and course(cell).get("setup") is True


def is_notes(cell) -> bool:
    """A speaker-notes cell made by ``slides annotate``."""
    return cell_type(cell) == "markdown" and NOTES_FOR in course(cell)


def notes_for(cell) -> str | None:
    """The heading of the section a notes cell belongs to, or None for any other cell."""
    value = course(cell).get(NOTES_FOR) if is_notes(cell) else None
    return value if isinstance(value, str) else None


def notes_digest(cell) -> str | None:
    """The digest ``slides annotate`` recorded of the text it wrote into a notes cell."""
    value = course(cell).get(NOTES_DIGEST)
    return value if isinstance(value, str) else None


def quiz_answers(cell) -> list:
    """The ids of the quiz questions whose answer the cell's output shows (``metadata.course.
    answers``): a page folds that output into a box the reader opens after answering."""
    value = course(cell).get(ANSWERS)
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def tags(cell) -> list:
    """The cell's tags (``metadata.tags``), the strings among them."""
    value = _metadata(cell).get("tags")
    return [t for t in value if isinstance(t, str)] if isinstance(value, list) else []


def slide_type(cell) -> str | None:
    """The cell's ``metadata.slideshow.slide_type``, or None."""
    slideshow = _metadata(cell).get("slideshow")
    value = slideshow.get("slide_type") if isinstance(slideshow, dict) else None
    return value if isinstance(value, str) else None


def recorded_slide_type(cell) -> str | None:
    """The slide type ``slides annotate`` last gave the cell (``metadata.course.slide_type``):
    a slide type that differs from it was set by a person."""
    value = course(cell).get("slide_type")
    return value if isinstance(value, str) else None


def is_progress(cell) -> bool:
    """One of the closing progress cells of a student copy."""
    return course(cell).get("progress") is True


def kind(cell) -> str:
    """One of :data:`KINDS` (see the module docstring)."""
    if is_solution(cell):
        return "exercise"
    if is_check(cell):
        return "check"
    if is_progress(cell):
        return "progress"
    if is_setup(cell):
        return "setup"
    if is_notes(cell):
        return "notes"
    return "demo" if cell_type(cell) == "code" else "text"


def source(cell) -> str:
    """The cell's source as one string ('' when it is neither a string nor a list of them)."""
    value = cell.get("source") if isinstance(cell, dict) else None
    if isinstance(value, list) and all(isinstance(line, str) for line in value):
        return "".join(value)
    return value if isinstance(value, str) else ""


def setup_sources(notebook) -> list:
    """The sources of a notebook's set-up cells, in order: what the grader runs first."""
    return [source(cell) for cell in notebook.get("cells", ()) if is_setup(cell)]
