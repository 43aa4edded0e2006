"""Hints that escalate: a failing check names the mistake; asking again gives the next rung.

A check's first failure gives the diagnosis only (the case, what was expected, what came back and
the likely mistake, in words). Each exercise has a ladder of three more rungs
(:attr:`helpers.checks.cases.CaseTable.ladder`): the idea, the tools, and last the code shape —
or, for an exercise whose point is a derivation, an intermediate result and a question, never the
final formula. Running the check again after the *same* failure, or ``hint("name")``, climbs one
rung; a different failure starts again at its diagnosis. The full solution is only behind
``show_solution("name")``, which the progress cell then records.

The state lives here, in the kernel that runs the checks, keyed by exercise: nothing is written
to disk, and the grader (which runs no check cell) never climbs a ladder.
"""

import textwrap
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Rung:
    """One hint after the diagnosis: ``label`` says what kind ("the idea", "the tools", "the
    code shape"); ``text`` may hold several lines (a code shape)."""

    label: str
    text: str


@dataclass
class _Climb:
    failure: tuple | None = None  # the key of the last failure (case, diagnosis)
    shown: int = 0  # rungs shown for it: 1 is the diagnosis
    message: str = ""  # the last failure's message, without its rungs


@dataclass
class _State:
    climbs: dict = field(default_factory=dict)  # exercise name -> _Climb
    solutions_shown: set = field(default_factory=set)


_STATE = _State()


def reset() -> None:
    """Forget every ladder climbed and every solution shown (a fresh kernel)."""
    _STATE.climbs.clear()
    _STATE.solutions_shown.clear()


def failed(name: str, key: tuple, rungs: int, message: str = "") -> int:
    """Record that exercise ``name``'s check failed with ``key`` (and ``message``); return how
    many rungs to show (1, the diagnosis, for a new failure; one more for the same failure
    again, at most ``rungs``)."""
    climb = _STATE.climbs.setdefault(name, _Climb())
    if climb.failure == key:
        climb.shown = min(climb.shown + 1, rungs)
    else:
        climb.failure, climb.shown = key, 1
    climb.message = message or climb.message
    return climb.shown


def last_failure(name: str) -> str:
    """The message of exercise ``name``'s last failure still unresolved ("" when none)."""
    climb = _STATE.climbs.get(name)
    return climb.message if climb is not None and climb.failure is not None else ""


def passed(name: str) -> None:
    """The check passed: its ladder starts again at the bottom."""
    _STATE.climbs.pop(name, None)


def climb(name: str, rungs: int) -> int:
    """One rung up for ``hint(name)``: return the rung to show now (2 at least: the diagnosis
    comes from a failing check)."""
    state = _STATE.climbs.setdefault(name, _Climb())
    state.shown = min(max(state.shown, 1) + 1, rungs)
    return state.shown


def mark_solution_shown(name: str) -> None:
    _STATE.solutions_shown.add(name)


def solution_shown(name: str) -> bool:
    return name in _STATE.solutions_shown


WIDTH = 100


def rung_lines(index: int, total: int, rung: Rung, indent: str = "  ") -> list:
    """The lines of rung ``index`` (2 to ``total``) of a ladder."""
    head = f"{indent}hint {index} of {total} ({rung.label}):"
    if "\n" in rung.text:  # a code shape keeps its lines
        return [head] + [f"{indent}    {line}".rstrip() for line in rung.text.splitlines()]
    return textwrap.wrap(
        f"{head} {rung.text}", WIDTH, subsequent_indent=indent + "    ", break_long_words=False
    )


def next_step(name: str, shown: int, total: int, indent: str = "  ") -> str:
    """What to do for more: the next rung, or the solution after the last."""
    if shown < total:
        return (
            f'{indent}(stuck? run this check again, or hint("{name}"), for hint {shown + 1} '
            f"of {total})"
        )
    return (
        f'{indent}(that was the last hint: show_solution("{name}") shows the course\'s solution, '
        "and the progress cell will then say so)"
    )


def escalate(name: str, message: str, ladder: tuple, shown: int) -> str:
    """A failing check's ``message`` (its diagnosis is rung 1) with rungs 2 to ``shown`` of
    ``ladder`` and what to do next."""
    total = len(ladder) + 1
    lines = [message]
    for index in range(2, shown + 1):
        lines += rung_lines(index, total, ladder[index - 2])
    lines.append(next_step(name, shown, total))
    return "\n".join(lines)
