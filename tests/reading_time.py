"""How long a notebook takes a learner, estimated from its text: the rule behind every "**Time:**".

    estimate (minutes) = words in Markdown cells (speaker notes left out) / 200
                       + 0.5 per code cell + non-blank, non-comment code lines / 30
                       + 8 per graded exercise

Reading runs at about 200 words a minute; each code cell costs half a minute to run and look at,
and each line of code two seconds to read; an exercise costs eight minutes to think through and
write. A section is optional when its level-2 heading starts with "Appendix" or ends with
"(optional)"; it runs until the next level-2 heading that is not optional. The first cell states
"**Time:** N minutes" for the main path, or "**Time:** N minutes, plus M for the optional
part(s)".

    .venv/bin/python tests/reading_time.py     # the table: stated and estimated, per notebook
"""

import re
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

from helpers.course import cells
from helpers.course.speaker_notes import is_optional

WORDS_PER_MINUTE = 200
MINUTES_PER_CODE_CELL = 0.5
CODE_LINES_PER_MINUTE = 30
MINUTES_PER_EXERCISE = 8
TOLERANCE = 0.20  # a stated time within ±20 % of the estimate

_TIME = re.compile(
    r"\*\*Time:\*\*\s*(?:about\s+)?(?P<main>\d+)\s*minutes?"
    r"(?:,\s*plus\s+(?P<optional>\d+)\s+(?:minutes?\s+)?for the optional)?",
    re.I,
)
_HEADING_2 = re.compile(r"^##\s+(?P<title>[^#\n].*?)\s*$", re.M)


@dataclass(frozen=True)
class ReadingTime:
    """A notebook's estimate (minutes) for its main path and its optional part(s)."""

    main: float
    optional: float


def _cell_minutes(cell) -> float:
    if cell.cell_type == "markdown":
        return len(cell.source.split()) / WORDS_PER_MINUTE
    if cell.cell_type != "code":
        return 0.0
    lines = [
        line
        for line in cell.source.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    minutes = MINUTES_PER_CODE_CELL + len(lines) / CODE_LINES_PER_MINUTE
    return minutes + (MINUTES_PER_EXERCISE if cells.is_solution(cell) else 0.0)


def estimate(nb) -> ReadingTime:
    """Estimate the minutes of ``nb``'s main path and of its optional sections."""
    main = optional = 0.0
    in_optional = False
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            if cells.is_notes(cell):
                continue
            heading = _HEADING_2.search(cell.source)
            if heading and cell.source.lstrip().startswith("## "):
                in_optional = is_optional(heading["title"])
        if in_optional:
            optional += _cell_minutes(cell)
        else:
            main += _cell_minutes(cell)
    return ReadingTime(main=main, optional=optional)


def stated(nb) -> ReadingTime | None:
    """The minutes the first cell states, main path and optional part (0 when none)."""
    match = _TIME.search(nb.cells[0].source) if nb.cells else None
    if match is None:
        return None
    return ReadingTime(main=int(match["main"]), optional=int(match["optional"] or 0))


def within_tolerance(stated_minutes: float, estimated_minutes: float) -> bool:
    """Whether a stated time is within ±20 % of the estimate (both 0 counts as agreeing)."""
    if estimated_minutes == 0:
        return stated_minutes == 0
    return abs(stated_minutes - estimated_minutes) <= TOLERANCE * estimated_minutes


def main(folder: Path) -> int:
    print(f"{'notebook':36} {'stated':>12} {'estimated':>16}")
    total = 0
    for path in sorted(folder.glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        said, guess = stated(nb), estimate(nb)
        said_text = "-" if said is None else f"{said.main} + {said.optional}"
        total += said.main if said else 0
        print(f"{path.name:36} {said_text:>12} {guess.main:9.1f} + {guess.optional:4.1f}")
    print(f"{'main paths stated, in all':36} {total:>12}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("notebooks")))
