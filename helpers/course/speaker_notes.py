"""Speaker notes: the format of a section's notes cell, and the checks a written one must pass.

Each section of a lesson (a level-2 heading other than the summary) has one notes cell right
after its heading cell (``make slide-metadata`` puts it there, collapsed in JupyterLab, never on a
slide or a page). A person writes it, in this form::

    **Speaker notes · 2. The forward pass** · 8 min

    - A talking point that is not on the slide: why, an anecdote, what to point at.
    - A second one (two or three in all).

    **Ask the room:** What is the mean of a unit's z̃ over the batch, whatever γ and β are?

    **Misconception:** that batch norm leaves every unit at mean 0 and variance 1.

The first line names the section and its minutes; the minutes of a notebook's sections add up to
the time its first cell states (``**Time:** 50 minutes.``). The deck's agenda slide lists the
sections with these minutes; the speaker window shows the notes.

``make slide-metadata`` writes :data:`TEMPLATE` into a section's notes cell and records its
digest; a notes cell whose text still has that digest (the template, or the notes earlier
versions of the tool derived from the slide's own text) is *not written yet*: the decks leave it
out, and :func:`notes_problems` asks for it only once the notebook has notes written by hand.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from helpers.course import cells

TEMPLATE = """**Speaker notes · {heading}** · ? min

- (a talking point that is not on the slide)
- (a second one; two or three in all)

**Ask the room:** (a question for the room)

**Misconception:** (the wrong idea the question brings out)
"""
POINTS = (2, 3)  # talking points per section, fewest and most
SHARED_WORDS = 6  # a run of this many words of the slide in a note is copied text
_FIRST_LINE = re.compile(
    r"^\*\*Speaker notes · (?P<heading>.+?)\*\*\s*·\s*(?P<minutes>\S+) min\s*$"
)
_QUESTION = re.compile(r"^\*\*Ask the room:\*\*\s*(.*)$")
_MISCONCEPTION = re.compile(r"^\*\*Misconception:\*\*\s*(.*)$")
_TIME = re.compile(
    r"\*\*Time:\*\*\s*(?:about\s+)?(?P<main>\d+)\s*min\w*"
    r"(?:,\s*plus\s+(?P<optional>\d+)\s+(?:min\w*\s+)?for the optional)?",
    re.I,
)
_PLACEHOLDER = re.compile(r"^\(.*\)$")


@dataclass(frozen=True)
class SpeakerNotes:
    """One section's notes, read from its cell."""

    heading: str
    minutes: int
    points: tuple
    question: str
    misconception: str


def digest(text: str) -> str:
    """The digest ``make slide-metadata`` records of the text it wrote into a notes cell."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def written_by_hand(cell) -> bool:
    """Whether a notes cell holds text a person wrote (not the text the tool put there)."""
    return cells.is_notes(cell) and cells.notes_digest(cell) != digest(cells.source(cell))


def parse_notes(text: str) -> SpeakerNotes:
    """Read notes written in the module's format; ValueError saying what is missing or wrong."""
    if not isinstance(text, str):
        raise TypeError(f"text must be the notes cell's text, got {type(text).__name__}")
    lines = [line.rstrip() for line in text.strip().splitlines()]
    first = _FIRST_LINE.match(lines[0]) if lines else None
    if first is None:
        raise ValueError(
            "the first line must be '**Speaker notes · <section>** · <minutes> min', got "
            f"{(lines or [''])[0]!r}"
        )
    if not first["minutes"].isdigit() or int(first["minutes"]) < 1:
        raise ValueError(f"minutes must be a whole number ≥ 1, got {first['minutes']!r}")
    points, question, misconception = [], None, None
    for line in lines[1:]:
        if line.startswith("- "):
            points.append(line[2:].strip())
        elif line.startswith("  ") and points and line.strip():  # a point over several lines
            points[-1] += " " + line.strip()
        elif _QUESTION.match(line):
            question = _QUESTION.match(line).group(1).strip()
        elif _MISCONCEPTION.match(line):
            misconception = _MISCONCEPTION.match(line).group(1).strip()
        elif line.strip():
            raise ValueError(f"not a talking point, question or misconception: {line!r}")
    low, high = POINTS
    if not low <= len(points) <= high:
        raise ValueError(f"{low} or {high} talking points ('- …') are needed, got {len(points)}")
    for name, value in (("'**Ask the room:**'", question), ("'**Misconception:**'", misconception)):
        if not value:
            raise ValueError(f"{name} and its text are missing")
    unfilled = [p for p in (*points, question, misconception) if _PLACEHOLDER.match(p)]
    if unfilled:
        raise ValueError(f"the template's placeholders are still there: {unfilled[0]!r}")
    return SpeakerNotes(
        heading=first["heading"].strip(),
        minutes=int(first["minutes"]),
        points=tuple(points),
        question=question,
        misconception=misconception,
    )


def is_optional(heading: str) -> bool:
    """Whether a level-2 section is optional: its heading starts with "Appendix" or ends with
    "(optional)". The one rule for the stated time, the notes' minutes and the reading-time test."""
    heading = heading.strip().lower()
    return heading.startswith("appendix") or heading.endswith("(optional)")


def stated_minutes(nb) -> int | None:
    """The minutes the notebook's first cell states for its main path (``**Time:** 50
    minutes.``, or ``**Time:** 40 minutes, plus 15 for the optional part.``), or None."""
    first = nb.cells[0].source if nb.cells else ""
    match = _TIME.search(first)
    return int(match["main"]) if match else None


def stated_optional_minutes(nb) -> int:
    """The minutes the first cell states for the optional part(s) (``…, plus 15 for the
    optional part``); 0 when it states none."""
    first = nb.cells[0].source if nb.cells else ""
    match = _TIME.search(first)
    return int(match["optional"]) if match and match["optional"] else 0


def _words(markdown: str) -> list[str]:
    text = re.sub(r"<[^>]+>|[`*_$\\{}\[\]()|#>]", " ", markdown.lower())
    return re.findall(r"[^\W_]+(?:['’.][^\W_]+)*", text)


def copied_text(note: str, slide: str, run: int = SHARED_WORDS) -> str | None:
    """The first run of ``run`` words that ``note`` shares with ``slide`` (both Markdown), or None.

    Case, punctuation and Markdown/LaTeX marks are ignored: a note that repeats its slide's
    sentence, however it was reformatted, is found.
    """
    slide_words = _words(slide)
    shingles = {tuple(slide_words[i : i + run]) for i in range(len(slide_words) - run + 1)}
    note_words = _words(note)
    for i in range(len(note_words) - run + 1):
        if tuple(note_words[i : i + run]) in shingles:
            return " ".join(note_words[i : i + run])
    return None


def sections(nb) -> list[tuple[str, str, object]]:
    """``(heading, the section's Markdown as shown, its notes cell or None)`` per section."""
    from helpers.course.slides import heading_levels

    found, current = [], None
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        if cells.is_notes(cell):
            if current is not None and cells.notes_for(cell) == current[0]:
                current[2] = cell
            continue
        levels = heading_levels(cell.source)
        if levels and levels[0][0] <= 2:
            heading = levels[0][1]
            if levels[0][0] == 2 and not heading.lower().startswith("summary"):
                current = [heading, "", None]
                found.append(current)
            else:
                current = None
                continue
        if current is not None:
            current[1] += cell.source + "\n\n"
    return [tuple(section) for section in found]


def section_minutes(nb) -> list[tuple[str, int | None]]:
    """``(heading, minutes)`` per section, minutes from its notes when written by hand (else
    None): what the deck's agenda slide lists."""
    plan = []
    for heading, _text, cell in sections(nb):
        minutes = None
        if cell is not None and written_by_hand(cell):
            try:
                minutes = parse_notes(cell.source).minutes
            except ValueError:
                pass
        plan.append((heading, minutes))
    return plan


def has_notes_written(nb) -> bool:
    """Whether any section of ``nb`` has notes a person wrote."""
    return any(cell is not None and written_by_hand(cell) for _h, _t, cell in sections(nb))


def notes_problems(nb, name: str = "notebook") -> list[str]:
    """Return what is wrong with ``nb``'s speaker notes, one message per problem (empty: none).

    Every section needs notes written by hand in the module's format, for that section; no
    talking point, question or misconception may repeat the section's own text; and the
    sections' minutes must add up to the time the notebook states (the main path's, and the
    optional part's for the optional sections).
    """
    problems, total, optional, every_section_timed = [], 0, 0, True
    for heading, text, cell in sections(nb):
        where = f"{name}, section '{heading}'"
        if cell is None:
            problems.append(f"{where}: no notes cell (run `make slide-metadata`)")
            every_section_timed = False
            continue
        if not written_by_hand(cell):
            problems.append(f"{where}: the notes are not written yet")
            every_section_timed = False
            continue
        try:
            notes = parse_notes(cell.source)
        except ValueError as error:
            problems.append(f"{where}: {error}")
            every_section_timed = False
            continue
        if notes.heading != heading:
            problems.append(f"{where}: the notes are headed '{notes.heading}'")
        if is_optional(heading):
            optional += notes.minutes
        else:
            total += notes.minutes
        for part in (*notes.points, notes.question, notes.misconception):
            copied = copied_text(part, text)
            if copied:
                problems.append(f"{where}: the note repeats the slide: '{copied}' in {part!r}")
    stated = stated_minutes(nb)
    if stated is None:
        problems.append(f"{name}: the first cell states no time ('**Time:** N minutes.')")
    elif every_section_timed and total != stated:
        problems.append(
            f"{name}: the sections' minutes add up to {total}, the notebook says {stated}"
        )
    if stated is not None and every_section_timed and optional != stated_optional_minutes(nb):
        problems.append(
            f"{name}: the optional sections' minutes add up to {optional}, the notebook says "
            f"{stated_optional_minutes(nb)}"
        )
    return problems
