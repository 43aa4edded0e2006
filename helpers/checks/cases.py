"""A check's data model and its judge: cases, tables, observations and failure messages.

A check is a :class:`CaseTable`: rows of inputs, each with a verifier
(:mod:`helpers.checks.verifiers`). The student's function is called where the student's code
runs (:func:`helpers.checks.probes.observe`); what it returned crosses as plain data
(:mod:`helpers.checks.wire`) and :func:`judge` turns it into a verdict and a message written for
the student. A notebook's check cell (:mod:`helpers.checks.driver`) and the grader
(:mod:`helpers.course.grading.verdict`) both judge with :func:`judge`.
"""

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from helpers.checks.hints import Rung
from helpers.checks.probes import Recorder
from helpers.checks.wire import TensorValue, Unsupported, WireError, decode_result, encode_arg


class CheckFailure(AssertionError):
    """A student's function failed a case; the message is written for the student.

    IPython shows what ``_render_traceback_`` returns in place of a traceback, so a failing
    check cell shows the message and none of the checker's frames; it is still an error (for
    nbgrader, and for a cell tagged ``raises-exception``).
    """

    def _render_traceback_(self) -> list:
        return str(self).splitlines()


@dataclass(frozen=True)
class Failure:
    """A failing case, judged: what happened (``lines``) and the likely mistake (``hint``, the
    diagnosis: in words, never code). ``key`` tells one failure from another, so that a check
    run again after the same failure gives the next hint (:mod:`helpers.checks.hints`)."""

    case: str
    lines: tuple[str, ...]
    hint: str

    @property
    def key(self) -> tuple:
        return (self.case, self.hint)

    def __str__(self) -> str:
        return "\n".join([*self.lines, f"  hint: {self.hint}"])


class Mismatch(Exception):
    """Raised by a case's verifier: what was expected and what came back, and a hint of its own
    when the verifier recognized the mistake (else the case's hint is given)."""

    def __init__(self, expected: str, got: str, hint: str | None = None):
        super().__init__(expected)
        self.expected, self.got, self.hint = expected, got, hint


# verify(result) or, for a case that observes more (a probe, further calls), verify(result,
# observation); raises Mismatch. None: only an error is expected.
Verify = Callable[..., None]


@dataclass(frozen=True)
class Case:
    """One row of a check's table: call ``function(*args)`` and ``verify`` what it returns.

    The call happens where the student's code runs (:func:`helpers.checks.probes.observe`);
    ``verify`` judges the plain data that comes back, so it never touches an object the
    student's code made.
    """

    name: str
    args: tuple
    verify: Verify | None
    hint: str
    expect_error: type[Exception] | None = None  # the case passes if the call raises this
    # Extra data the student's process reports after the call (a key of probes.PROBES), what
    # the probe is given (plain data), and further calls ((args, global NumPy seed), ...):
    # given to verify as ``observation``.
    probe: str | None = None
    probe_input: object = None
    again: tuple = ()
    # Mistakes recognized by the error they raise: ((regular expression, hint), ...), matched
    # against "Type: message"; the first that matches replaces ``hint``.
    error_hints: tuple[tuple[str, str], ...] = ()
    # Drawn by the grader when it grades (never shown in a notebook): its expected values are
    # computed outside the student's process and never appear in a message.
    hidden: bool = False

    @property
    def observes(self) -> bool:
        return bool(self.probe or self.again)

    def request(self) -> dict:
        """The case as plain data for :func:`helpers.checks.probes.observe`: inputs only."""
        request = {
            "args": encode_arg(tuple(self.args)),
            "probe": self.probe,
            "again": [[encode_arg(tuple(args)), seed] for args, seed in self.again],
        }
        if self.probe_input is not None:
            request["probe_input"] = encode_arg(self.probe_input)
        return request


@dataclass(frozen=True)
class CaseTable:
    """A check's whole table: the public cases of one graded function.

    ``reference`` is the course's version of the function (it stands in, in a notebook, after
    a failing check); ``uses`` maps the names of other graded functions that the function
    calls to their references, which stand in for the learner's while it is checked or graded.
    ``ladder`` holds the hints after a failure's diagnosis, in the order a learner asking again
    gets them (:mod:`helpers.checks.hints`).
    """

    name: str
    cases: tuple[Case, ...]
    arg_names: tuple[str, ...]
    reference: Callable
    uses: Mapping[str, Callable] = field(default_factory=dict)
    ladder: tuple[Rung, ...] = ()


@dataclass
class Observation:
    """What the student's process reported for one case, decoded (see probes.observe)."""

    result: object = None
    error: dict | None = None
    args_after: tuple = ()
    recorded: list = field(default_factory=list)
    probe: object = None
    probe_error: dict | None = None
    again: list = field(default_factory=list)  # ("result", value) or ("error", description)
    function: str = ""  # the graded function's name, for messages


_NAME = re.compile(r"[A-Za-z_<][\w.<>]{0,99}")


def _error_dict(raw) -> dict:
    if not isinstance(raw, dict):
        raise WireError("bad error")
    classes = raw.get("classes", [])
    function = raw.get("function")
    return {
        "type": str(raw.get("type", "?"))[:100],
        "message": str(raw.get("message", ""))[:2000],
        "classes": [str(c)[:100] for c in classes[:50]] if isinstance(classes, list) else [],
        # A code object's name is the student's to choose: keep it only if it reads as a name,
        # so it cannot add lines of its own to a report.
        "function": function if isinstance(function, str) and _NAME.fullmatch(function) else None,
        "own": raw.get("own") is True,
        "frames": _frames(raw.get("frames")),
        "through": _through(raw.get("through")),
    }


def _line(text, limit: int = 200) -> str:
    """One line of at most ``limit`` characters: what the student's code sent cannot add lines
    of its own to a message."""
    return " ".join(str(text).split())[:limit]


def _frames(raw) -> list:
    """The learner's frames (where, line, function, source), at most 8, each one line."""
    if not isinstance(raw, list):
        return []
    frames = []
    for item in raw[-8:]:
        if isinstance(item, list) and len(item) == 4 and isinstance(item[1], int):
            frames.append([_line(item[0], 100), item[1], _line(item[2], 100), _line(item[3])])
    return frames


def _through(raw) -> dict | None:
    """The course's function the learner's code called when the error was raised there."""
    if not isinstance(raw, dict) or not isinstance(raw.get("function"), str):
        return None
    if not _NAME.fullmatch(raw["function"]):
        return None
    return {"function": raw["function"], "args": _line(raw.get("args", ""), 300)}


def read_error(raw) -> dict | None:
    """An error description found inside a probe's data, read as strictly as the others (None
    when it is not one)."""
    try:
        return _error_dict(raw)
    except Exception:
        return None


def raised_where(error: dict, name: str) -> str | None:
    """The function an error came from: ``name`` when it is the function under test itself."""
    return name if error.get("own") else error.get("function")


def describe_error(error: dict, name: str = "") -> str:
    """``Type (raised in function): message`` — the function it came from, when known; for an
    error raised inside a course function the learner's code called, that call, as the
    learner wrote it (``Type from the course's f, which your code called as f(a=1, b=2) in
    function: message``): the message is the course's, the call the learner's."""
    where = raised_where(error, name)
    message = f": {error['message']}" if error.get("message") else ""
    through = error.get("through")
    if through:
        call = f"{through['function']}({through['args']})"
        return (
            f"{error['type']} from the course's {through['function']}, which your code called as "
            f"{call}" + (f" in {where}" if where else "") + message
        )
    where = f" (raised in {where})" if where else ""
    return f"{error['type']}{where}{message}"


def where_lines(error: dict) -> list:
    """The learner's frames of an error, innermost last: the lines of their code that ran."""
    if not error.get("frames"):
        return []
    lines = ["  where, in your code:"]
    for where, line, function, source in error["frames"]:
        lines.append(f"    {where}, line {line}, in {function}" + (f": {source}" if source else ""))
    return lines


def decode_observation(raw) -> Observation:
    """Decode a probes.observe() answer strictly; raise WireError on anything else."""
    try:
        return _decode_observation(raw)
    except WireError:
        raise
    except Exception as error:  # data shaped unlike anything observe() sends
        raise WireError(f"malformed observation ({type(error).__name__})") from None


def _decode_observation(raw) -> Observation:
    if not isinstance(raw, dict):
        raise WireError("not an observation")
    obs = Observation()
    if "error" in raw:
        obs.error = _error_dict(raw["error"])
    elif "result" in raw:
        obs.result = decode_result(raw["result"])
    else:
        raise WireError("neither a result nor an error")
    after = decode_result(raw.get("args_after", {"$tuple": []}))
    obs.args_after = after if isinstance(after, tuple) else ()
    recorded = decode_result(raw.get("recorded", []))
    obs.recorded = recorded if isinstance(recorded, list) else []
    if "probe" in raw:
        obs.probe = decode_result(raw["probe"])
    if "probe_error" in raw:
        obs.probe_error = _error_dict(raw["probe_error"])
    for item in raw.get("again", []) if isinstance(raw.get("again"), list) else []:
        if isinstance(item, dict) and "result" in item:
            obs.again.append(("result", decode_result(item["result"])))
        elif isinstance(item, dict) and "error" in item:
            obs.again.append(("error", _error_dict(item["error"])))
    return obs


# ---- values in plain words ----------------------------------------------------------------


def kind_of(value) -> str:
    """What a returned value is, in plain words (never a class of the checker's own)."""
    if value is None:
        return "None"
    if isinstance(value, Unsupported):
        return repr(value)
    if isinstance(value, TensorValue):
        kind = "tf.Variable" if value.variable else "TensorFlow tensor"
        return f"a {kind} of shape {tuple(value.value.shape)}"
    if isinstance(value, np.ndarray):
        return f"a numpy array of shape {value.shape}, dtype {value.dtype}"
    if isinstance(value, bool):
        return f"the boolean {value}"
    if isinstance(value, int | float | np.number):
        return f"the number {value!r}"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple | dict):
        noun = {list: "list", tuple: "tuple", dict: "dict"}[type(value)]
        return f"a {noun} of {len(value)} item{'s' * (len(value) != 1)}"
    return f"an object of type {type(value).__name__}"


def short(value) -> str:
    """A value in one line: an array as its shape and a few entries."""
    if value is None:
        return "None"
    if isinstance(value, np.ndarray):
        text = np.array2string(value, precision=4, threshold=12, edgeitems=2)
        return f"array of shape {value.shape}: " + " ".join(text.split())
    if isinstance(value, Unsupported | TensorValue):
        return kind_of(value)
    text = repr(value)
    return text if len(text) < 120 else text[:117] + "..."


def _describe_args(args, names) -> str:
    parts = []
    for name, value in zip(names, args, strict=False):
        if isinstance(value, np.ndarray) and 0 < value.size <= 8 and value.ndim == 1:
            # a few values say more than a shape: labels [0, -1] show the bad label
            parts.append(f"{name} = {np.array2string(value, separator=', ', precision=4)}")
        elif isinstance(value, np.ndarray):
            parts.append(f"{name} shape {value.shape}")
        elif isinstance(value, np.random.Generator):
            parts.append(f"{name} = a seeded numpy Generator")
        elif type(value).__module__.startswith(("keras", "optuna")):
            library = type(value).__module__.split(".")[0].capitalize()
            article = "an" if library[0] in "AEIOU" else "a"
            parts.append(f"{name} = {article} {library} {type(value).__name__}")
        elif len(getattr(value, "shape", ())) > 0:  # a tensor
            parts.append(f"{name} shape {tuple(value.shape)}")
        elif type(value).__module__ == "helpers.checks.probes":
            parts.append(f"{name} = {value!r}")
        elif callable(value):
            parts.append(f"{name} = a test function")
        else:
            parts.append(f"{name} = {_summary(value)}")
    return ", ".join(parts)


def _summary(value, depth: int = 0) -> str:
    """A value in a few words: arrays (also inside tuples, lists and dicts) by their shape."""
    if isinstance(value, np.ndarray):
        return f"array {value.shape}" if value.ndim else f"{value.item()!r}"
    if type(value).__module__.startswith("tensorflow") and hasattr(value, "numpy"):
        kind = "tf.Variable" if "Variable" in type(value).__name__ else "tensor"
        data = np.asarray(value.numpy())
        return f"{kind} {data.shape}" if data.ndim else f"{data.item()!r} (a {kind})"
    if depth < 3 and isinstance(value, tuple | list):
        inner = ", ".join(_summary(v, depth + 1) for v in value[:12])
        more = ", ..." if len(value) > 12 else ""
        return f"({inner}{more})" if isinstance(value, tuple) else f"[{inner}{more}]"
    if depth < 3 and isinstance(value, dict):
        inner = ", ".join(f"{k!r}: {_summary(v, depth + 1)}" for k, v in list(value.items())[:12])
        return "{" + inner + "}"
    text = repr(value)
    return text if len(text) < 80 else text[:77] + "..."


# ---- the judge -----------------------------------------------------------------------------

HIDDEN_NOTE = "(a hidden case: its inputs were drawn when grading, its expected value is not shown)"


def judge(name: str, case: Case, raw, arg_names) -> str | None:
    """Return the failure message of one case from what the student's process reported (raw
    JSON data from probes.observe), or None when the case passes. Never raises."""
    failure = judge_failure(name, case, raw, arg_names)
    return None if failure is None else str(failure)


_UNREADABLE = "return plain numbers, NumPy arrays, tuples, lists or dicts"


def judge_failure(name: str, case: Case, raw, arg_names) -> Failure | None:
    """:func:`judge`'s verdict as a :class:`Failure` (None: the case passes). Never raises."""
    kind = "hidden case" if case.hidden else "case"
    lines = [f'✗ {name} — {kind} "{case.name}"']
    try:
        lines.append(f"  input {_describe_args(case.args, arg_names) or 'none (the defaults)'}")
        judged = _judge(name, case, raw)
    except Exception as error:  # a checker that cannot read the data fails the case, no more
        judged = (
            [
                "  expected a result the checker can read",
                f"  got data it could not read ({type(error).__name__})",
            ],
            _UNREADABLE,
        )
    if judged is None:
        return None
    body, hint = judged
    return Failure(case.name, (*lines, *body), hint)


def _judge(name: str, case: Case, raw) -> tuple | None:
    """``(lines, hint)`` of a failing case, or None."""
    try:
        observation = decode_observation(raw)
    except WireError as error:
        return [
            "  expected a result the checker can read",
            f"  got unreadable data ({str(error)[:200]})",
        ], _UNREADABLE
    if observation.error:
        return _judge_error(name, case, observation.error)
    result = observation.result
    if case.expect_error:
        return [
            f"  expected {case.expect_error.__name__} to be raised",
            f"  got a return value: {short(result)}",
        ], case.hint
    after = observation.args_after
    if len(after) != len(case.args) or not all(map(_unchanged, case.args, after)):
        changed = [a for a, b in zip(case.args, after, strict=False) if not _unchanged(a, b)]
        if changed and all(isinstance(a, dict) for a in changed):
            what, fix = "the dict it received", "build a new dict instead"
        elif changed and all(isinstance(a, np.ndarray) for a in changed):
            what, fix = "an array updated in place", "compute a new array instead"
        else:
            what, fix = "a value updated in place", "compute new values instead"
        return [
            "  expected the arguments to be left unchanged",
            "  got an argument modified in place",
        ], f"your function changed an argument it was given ({what}): {fix}"
    observation.function = name
    recorders = [a for a in case.args if isinstance(a, Recorder)]
    recorded = observation.recorded + [[]] * len(recorders)
    for recorder, calls in zip(recorders, recorded, strict=False):
        recorder.calls = calls if isinstance(calls, list) else []
    try:
        if case.observes:
            case.verify(result, observation)
        else:
            case.verify(result)
    except Mismatch as mismatch:
        if case.hidden:  # what was expected stays with the grader
            return [f"  got a different result {HIDDEN_NOTE}"], mismatch.hint or case.hint
        return [f"  expected {mismatch.expected}", f"  got {mismatch.got}"], (
            mismatch.hint or case.hint
        )
    except Exception as error:  # data shaped unlike anything a function returns
        return [
            "  expected a result the checker can read",
            f"  got {short(result)} ({type(error).__name__})",
        ], case.hint
    return None


def _judge_error(name: str, case: Case, error: dict) -> tuple | None:
    where = raised_where(error, name)
    if "NotImplementedError" in error["classes"]:
        if where and where != name:
            return [f"  got NotImplementedError (raised in {where}, which {name} calls)"], (
                f"{where} is not written yet: its cell still has "
                "`raise NotImplementedError()`; write it first (or do without it)"
            )
        return [f"  got NotImplementedError (raised in {name})"], (
            f"replace `raise NotImplementedError()` in {name} with your code"
        )
    if case.expect_error and case.expect_error.__name__ in error["classes"]:
        return None
    expected = f"{case.expect_error.__name__}" if case.expect_error else "a return value"
    return [
        f"  expected {expected}",
        f"  got {describe_error(error, name)}",
        *where_lines(error),
    ], error_hint(case, error)


def error_hint(case: Case, error: dict) -> str:
    """The hint for an error: the first of ``case.error_hints`` whose pattern matches it
    (``Type: message``, or ``Type in function: message`` for an error raised inside a course
    function the learner's code called)."""
    through = error.get("through")
    text = f"{error['type']}" + (f" in {through['function']}" if through else "")
    text += f": {error['message']}"
    for pattern, hint in case.error_hints:
        if re.search(pattern, text):
            return hint
    return case.hint


def _unchanged(original, after) -> bool:
    """Whether an argument still equals its copy taken before the call (arrays, dicts, lists);
    anything of another type than the original counts as changed."""
    if isinstance(original, np.ndarray):
        return (
            isinstance(after, np.ndarray)
            and original.shape == after.shape
            and np.array_equal(original, after)
        )
    if isinstance(original, dict):
        return (
            isinstance(after, dict)
            and original.keys() == after.keys()
            and all(_unchanged(original[k], after[k]) for k in original)
        )
    if isinstance(original, list | tuple):
        return (
            isinstance(after, list | tuple)
            and len(original) == len(after)
            and all(map(_unchanged, original, after))
        )
    if isinstance(original, int | float) and not isinstance(original, bool):
        return (
            isinstance(after, int | float | np.number)
            and not isinstance(after, bool)
            and (original == after or (math.isnan(original) and math.isnan(after)))
        )
    return True  # functions, generators: nothing a learner's code would mutate by mistake
