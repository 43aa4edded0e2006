"""A notebook's check cell: run a case table against the learner's function, here and now.

Each case makes the same round trip as in the grader — the call through
:func:`helpers.checks.probes.observe`, plain JSON data, :func:`helpers.checks.cases.judge` — so a
check cell and the grader agree on every public case. The first failing case is explained, with
as many rungs of the exercise's hint ladder as the learner has asked for (:mod:`.hints`).
"""

import contextlib
import contextvars
import json
import textwrap

from helpers.checks import hints
from helpers.checks.cases import CaseTable, CheckFailure, judge_failure, short
from helpers.checks.probes import observe
from helpers.checks.stand_ins import is_stand_in, references_in_place, stand_in_for_the_lesson

_quiet = contextvars.ContextVar("quiet", default=False)


@contextlib.contextmanager
def quietly():
    """Run checks without their ✓ line, without putting the course's versions in place and
    without climbing a hint ladder (what :func:`helpers.checks.progress` needs)."""
    token = _quiet.set(True)
    try:
        yield
    finally:
        _quiet.reset(token)


def run_cases(table: CaseTable, function) -> None:
    """Run ``table``'s cases against ``function``; print one ✓ line, or raise
    :class:`CheckFailure` explaining the first case that failed.

    The references of ``table.uses`` stand in for the exercises ``function`` builds on
    (:func:`helpers.checks.stand_ins.references_in_place`). In a notebook, a failing check also
    puts the course's version of the function in the notebook's namespace in place of the
    learner's, so the cells below still run; re-running the exercise cell brings it back.
    The same failure again shows the next rung of ``table.ladder`` (:mod:`helpers.checks.hints`).
    """
    __tracebackhide__ = True  # IPython and pytest hide this frame: the message says it all
    name = table.name
    if function is None or not callable(function):
        raise CheckFailure(
            f"✗ {name} — expected a function, got {short(function)}\n"
            f"  hint: pass the function itself, e.g. check_{name}({name})"
        ) from None
    if is_stand_in(function):
        raise CheckFailure(_again_on_the_stand_in(table)) from None
    failure = None
    with references_in_place(function, dict(table.uses)):
        for case in table.cases:
            raw = json.loads(json.dumps(observe(function, **case.request())))
            failure = judge_failure(name, case, raw, table.arg_names)
            if failure:
                break
    if failure:
        message = str(failure)
        if not _quiet.get():
            shown = hints.failed(name, failure.key, len(table.ladder) + 1, message)
            message = hints.escalate(name, message, table.ladder, shown)
            note = stand_in_for_the_lesson(name, function, table.reference)
            message += f"\n  {note}" if note else ""
        raise CheckFailure(message) from None
    if not _quiet.get():
        hints.passed(name)
        print(f"✓ {name}: {len(table.cases)}/{len(table.cases)} checks passed")


def _again_on_the_stand_in(table: CaseTable) -> str:
    """The check run again while the course's version stands in for the learner's failed one:
    the learner asks again, so the last failure comes back one rung further (the learner's own
    code is checked again once the exercise cell has run)."""
    name = table.name
    rerun = "\n".join(
        textwrap.wrap(
            f"(your last failure again, with the next hint: since yours failed, the course's "
            f"{name} stands in for it, so this run had nothing new of yours to check; to check "
            "yours again, run your exercise cell first, then this check)",
            hints.WIDTH,
            initial_indent="  ",
            subsequent_indent="   ",
        )
    )
    last = hints.last_failure(name)
    if _quiet.get() or not last:
        return (
            f"✗ {name} — this is the course's version, put in place when your {name} failed "
            f"its check\n  hint: run your exercise cell again (it defines your {name}), then "
            "this check"
        )
    shown = hints.climb(name, len(table.ladder) + 1)
    return hints.escalate(name, f"{last}\n{rerun}", table.ladder, shown)
