"""The machinery of every check: table-driven cases, verifiers and failure messages."""

import contextlib
import contextvars
import functools
import json
import math
import re
import sys
import types
from dataclasses import dataclass, field

import numpy as np

from helpers.checks.probes import Recorder, observe
from helpers.checks.wire import TensorValue, WireError, decode_result, encode_arg


class CheckFailure(AssertionError):
    """A student's function failed a case; the message is written for the student."""


class Mismatch(Exception):
    """Raised by a case's verifier: what was expected and what came back, and a hint of its own
    when the verifier recognized the mistake (else the case's hint is given)."""

    def __init__(self, expected: str, got: str, hint: str | None = None):
        super().__init__(expected)
        self.expected, self.got, self.hint = expected, got, hint


@dataclass
class Case:
    """One row of a check's table: call ``function(*args)`` and ``verify`` what it returns.

    The call happens where the student's code runs (:func:`helpers.checks.probes.observe`);
    ``verify`` judges the plain data that comes back (:mod:`helpers.checks.wire`), so it never
    touches an object the student's code made.
    """

    name: str
    args: tuple
    verify: object  # callable(result) -> None, or callable(result, observation); raises Mismatch
    hint: str
    expect_error: type | None = None  # the case passes if the call raises this
    # Extra data the student's process reports after the call (a key of probes.PROBES), and
    # further calls ((args, global NumPy seed), ...): both given to verify as ``observation``.
    probe: str | None = None
    again: tuple = ()
    # Mistakes recognized by the error they raise: ((regular expression, hint), ...), matched
    # against "Type: message"; the first that matches replaces ``hint``.
    error_hints: tuple = ()

    @property
    def observes(self) -> bool:
        return bool(self.probe or self.again)

    def request(self) -> dict:
        """The case as plain data for :func:`helpers.checks.probes.observe`."""
        return {
            "args": encode_arg(tuple(self.args)),
            "probe": self.probe,
            "again": [[encode_arg(tuple(args)), seed] for args, seed in self.again],
        }


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
        "classes": [str(c) for c in classes] if isinstance(classes, list) else [],
        # A code object's name is the student's to choose: keep it only if it reads as a name,
        # so it cannot add lines of its own to a report.
        "function": function if isinstance(function, str) and _NAME.fullmatch(function) else None,
        "own": raw.get("own") is True,
    }


def raised_where(error: dict, name: str) -> str | None:
    """The function an error came from: ``name`` when it is the function under test itself."""
    return name if error.get("own") else error.get("function")


def describe_error(error: dict, name: str = "") -> str:
    """``Type (raised in function): message`` — the function it came from, when known."""
    where = raised_where(error, name)
    where = f" (raised in {where})" if where else ""
    message = f": {error['message']}" if error.get("message") else ""
    return f"{error['type']}{where}{message}"


def decode_observation(raw) -> Observation:
    """Decode a probes.observe() answer strictly; raise WireError on anything else."""
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


def again_result(observation: Observation, index: int):
    """The result of the case's further call ``index``, or Mismatch saying what it raised."""
    if index >= len(observation.again):
        raise Mismatch("a second call to work", "no answer")
    kind, value = observation.again[index]
    if kind == "error":
        raise Mismatch("a second call to work", describe_error(value, observation.function))
    return value


def _describe_args(args, names) -> str:
    parts = []
    for name, value in zip(names, args, strict=False):
        if isinstance(value, np.ndarray):
            parts.append(f"{name} shape {value.shape}")
        elif isinstance(value, np.random.Generator):
            parts.append(f"{name} = a seeded numpy Generator")
        elif type(value).__module__.startswith(("keras", "optuna")):
            library = type(value).__module__.split(".")[0].capitalize()
            article = "an" if library[0] in "AEIOU" else "a"
            parts.append(f"{name} = {article} {library} {type(value).__name__}")
        elif len(getattr(value, "shape", ())) > 0:  # a tensor
            parts.append(f"{name} shape {tuple(value.shape)}")
        elif type(value).__module__ == __name__.replace("cases", "probes"):
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


def short(value) -> str:
    if value is None:
        return "None"
    if isinstance(value, np.ndarray):
        text = np.array2string(value, precision=4, threshold=12, edgeitems=2)
        return f"array of shape {value.shape}: " + " ".join(text.split())
    text = repr(value)
    return text if len(text) < 120 else text[:117] + "..."


@dataclass
class CaseTable:
    """A check's whole table: the cases of one graded function, ready to send or run."""

    name: str
    cases: list
    arg_names: tuple
    uses: dict


_collecting = contextvars.ContextVar("collecting", default=None)


def case_table(check) -> CaseTable:
    """Return the table ``check`` (a ``check_<name>`` function) runs, without running it.

    The grader sends these cases to the submission's sandbox and judges the answers with the
    same verifiers, so a notebook's check cell and the grader share one definition of each case.
    """
    tables = []
    token = _collecting.set(tables)
    try:
        check(None)
    finally:
        _collecting.reset(token)
    (table,) = tables
    return table


def run_cases(name: str, function, cases, arg_names, uses=None) -> None:
    """Run ``cases`` against ``function``; print one ✓ line, or raise :class:`CheckFailure`.

    ``uses`` maps the names of other graded functions that ``function`` calls to their
    reference versions; they stand in during the check, so a mistake in one exercise is not
    charged again to the exercises built on it.

    In a notebook (an IPython kernel), a failing check also puts the course's version of
    ``name`` in the notebook's namespace in place of the learner's (:func:`stand_in`), so the
    cells below still run; re-running the exercise cell brings the learner's version back.
    """
    __tracebackhide__ = True  # IPython and pytest hide this frame: the message says it all
    collector = _collecting.get()
    if collector is not None:
        collector.append(CaseTable(name, list(cases), tuple(arg_names), dict(uses or {})))
        return
    if function is None or not callable(function):
        raise CheckFailure(
            f"✗ {name} — expected a function, got {short(function)}\n"
            f"  hint: pass the function itself, e.g. check_{name}({name})"
        ) from None
    if is_stand_in(function):
        raise CheckFailure(
            f"✗ {name} — this is the course's version, put in place when your {name} failed "
            "its check\n"
            f"  hint: run your exercise cell again (it defines your {name}), then this check"
        ) from None
    with _references_in_place(function, uses or {}):
        failure = None
        for case in cases:
            # The same round trip as in the grader: plain data out, plain data back.
            raw = json.loads(json.dumps(observe(function, **case.request())))
            failure = judge(name, case, raw, arg_names)
            if failure:
                break
    if failure:
        if not _quiet.get():
            note = _stand_in_for_the_lesson(name, function)
            failure += f"\n  {note}" if note else ""
        raise CheckFailure(failure) from None
    if not _quiet.get():
        print(f"✓ {name}: {len(cases)}/{len(cases)} checks passed")


_quiet = contextvars.ContextVar("quiet", default=False)


@contextlib.contextmanager
def quietly():
    """Run checks without their ✓ line and without putting the course's versions in place
    (what :func:`helpers.checks.progress` needs)."""
    token = _quiet.set(True)
    try:
        yield
    finally:
        _quiet.reset(token)


def _function_namespaces(function) -> list:
    """The global namespaces ``function`` looks names up in: its own, and those of what it wraps
    (``functools.wraps`` decorators, a ``tf.function``'s Python function)."""
    namespaces, seen = [], set()
    for _ in range(8):
        if function is None or id(function) in seen:
            break
        seen.add(id(function))
        namespace = getattr(function, "__globals__", None)
        if isinstance(namespace, dict) and all(namespace is not n for n in namespaces):
            namespaces.append(namespace)
        function = getattr(function, "__wrapped__", None) or getattr(
            function, "python_function", None
        )
    return namespaces


@contextlib.contextmanager
def _references_in_place(function, references):
    saved, missing = [], []
    for namespace in _function_namespaces(function):
        # only the learner's own functions of those names; a module called `softmax` stays put
        mine = {
            n: namespace[n] for n in references if isinstance(namespace.get(n), types.FunctionType)
        }
        # a name never defined (its cell not run): the grader's program has the reference too
        absent = [n for n in references if n not in namespace]
        # a course version standing in after a failed check changes no other check's verdict:
        # the learner's own function is back for the check's duration
        learners = {
            n: getattr(v, LEARNER_VERSION)
            for n, v in list(namespace.items())
            if n not in references and is_stand_in(v) and hasattr(v, LEARNER_VERSION)
        }
        saved.append((namespace, {**mine, **{n: namespace[n] for n in learners}}))
        namespace.update({n: references[n] for n in [*mine, *absent]})
        namespace.update(learners)
        missing.append((namespace, absent))
    try:
        yield
    finally:
        for namespace, mine in saved:
            namespace.update(mine)
        for namespace, absent in missing:
            for n in absent:
                namespace.pop(n, None)


# ---- the course's version standing in for a learner's function that has not passed yet -------

STAND_IN_NOTE = "until {name} passes its check, the cells below use the course's version"
STAND_IN_MARK = "__course_stand_in__"
LEARNER_VERSION = "__learner_version__"


def is_stand_in(function) -> bool:
    """Whether ``function`` is the course's version put in place by a failing check."""
    return isinstance(function, types.FunctionType) and isinstance(
        getattr(function, STAND_IN_MARK, None), str
    )


def stand_in(name: str, reference, shell=None, learner_version=None):
    """Return the course's ``reference`` of exercise ``name``, wrapped so that each notebook cell
    calling it says so in one line (printed on its first call in that cell). The checks put
    ``learner_version`` (the function that failed) back while they run."""
    noted = {"cell": None}

    @functools.wraps(reference)
    def course_version(*args, **kwargs):
        cell = getattr(shell, "execution_count", None)
        if cell is None or noted["cell"] != cell:
            noted["cell"] = cell
            print(f"({name}: the course's version, until yours passes its check)")
        return reference(*args, **kwargs)

    del course_version.__wrapped__  # the checks must not look through it to the reference
    setattr(course_version, STAND_IN_MARK, name)
    setattr(course_version, LEARNER_VERSION, learner_version)
    return course_version


def _interactive_shell():
    """The running IPython shell (a notebook's kernel), or None (plain Python, the grader).

    Looked up, not imported: a process without IPython loaded has no shell to find."""
    get_ipython = getattr(sys.modules.get("IPython"), "get_ipython", None)
    return get_ipython() if callable(get_ipython) else None


def _stand_in_for_the_lesson(name: str, function) -> str | None:
    """After ``function`` failed the check of exercise ``name`` in a notebook, bind ``name`` in
    the notebook's namespace to the course's version; return the line that says so.

    Only where the failing function is what the notebook calls ``name``; nothing happens outside
    an IPython shell. The grader never gets here: it runs no check cell, only the case tables
    (:func:`case_table`), and judges in its own process.
    """
    shell = _interactive_shell()
    namespace = getattr(shell, "user_ns", None)
    if not isinstance(namespace, dict) or namespace.get(name) is not function:
        return None
    from helpers.checks import EXERCISES  # here: the package imports this module

    exercise = EXERCISES.get(name)
    reference = getattr(exercise.reference_module, name, None) if exercise else None
    if not callable(reference):
        return None
    namespace[name] = stand_in(name, reference, shell, function)
    return STAND_IN_NOTE.format(name=name)


def judge(name: str, case: Case, raw, arg_names):
    """Return the failure message of one case from what the student's process reported (raw
    JSON data from probes.observe), or None when the case passes."""
    given = _describe_args(case.args, arg_names) or "none (the defaults)"
    header = f'✗ {name} — case "{case.name}"\n  input {given}\n'
    try:
        observation = decode_observation(raw)
    except WireError as error:
        return (
            header + "  expected a result the checker can read\n"
            f"  got unreadable data ({error})\n"
            "  hint: return plain numbers, NumPy arrays, tuples, lists or dicts"
        )
    if observation.error:
        error = observation.error
        where = raised_where(error, name)
        if "NotImplementedError" in error["classes"]:
            if where and where != name:
                return (
                    header + f"  got NotImplementedError (raised in {where}, which {name} calls)\n"
                    f"  hint: {where} is not written yet: its cell still has "
                    "`raise NotImplementedError()`; write it first (or do without it)"
                )
            return (
                header + f"  got NotImplementedError (raised in {name})\n"
                f"  hint: replace `raise NotImplementedError()` in {name} with your code"
            )
        if case.expect_error and case.expect_error.__name__ in error["classes"]:
            return None
        expected = f"{case.expect_error.__name__}" if case.expect_error else "a return value"
        return (
            header + f"  expected {expected}\n  got {describe_error(error, name)}\n"
            f"  hint: {error_hint(case, error)}"
        )
    result = observation.result
    if case.expect_error:
        return (
            header + f"  expected {case.expect_error.__name__} to be raised\n"
            f"  got a return value: {short(result)}\n  hint: {case.hint}"
        )
    after = observation.args_after
    if len(after) != len(case.args) or not all(map(_unchanged, case.args, after)):
        return (
            header + "  expected the arguments to be left unchanged\n"
            "  got an argument modified in place\n"
            "  hint: compute new arrays (W = W - ...) instead of updating in place (W -= ...);"
            " build a new dict instead of changing the one you were given"
        )
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
        return (
            header + f"  expected {mismatch.expected}\n  got {mismatch.got}\n"
            f"  hint: {mismatch.hint or case.hint}"
        )
    except Exception as error:  # data shaped unlike anything a function returns
        return (
            header + f"  expected a result the checker can read\n"
            f"  got {short(result)} ({type(error).__name__})\n  hint: {case.hint}"
        )
    return None


def error_hint(case: Case, error: dict) -> str:
    """The hint for an error: the first of ``case.error_hints`` whose pattern matches it."""
    text = f"{error['type']}: {error['message']}"
    for pattern, hint in case.error_hints:
        if re.search(pattern, text):
            return hint
    return case.hint


def _unchanged(original, after) -> bool:
    """Whether an argument still equals its copy taken before the call (arrays, dicts, lists)."""
    if isinstance(original, np.ndarray):
        return original.shape == after.shape and np.array_equal(original, after)
    if isinstance(original, dict):
        return original.keys() == after.keys() and all(
            _unchanged(original[k], after[k]) for k in original
        )
    if isinstance(original, list | tuple):
        return len(original) == len(after) and all(map(_unchanged, original, after))
    if isinstance(original, int | float):
        return original == after
    return True  # functions, generators: nothing a learner's code would mutate by mistake


# ---- verifiers: each returns a callable(result) that raises Mismatch ----------------------


def unpack(result, names):
    """Return ``result`` if it is a tuple (or list) of ``len(names)`` items, else raise Mismatch."""
    if not isinstance(result, tuple | list) or len(result) != len(names):
        raise Mismatch(f"a tuple ({', '.join(names)})", short(result))
    return result


def tensor_scalar(result, what="a scalar tensor") -> float:
    """Return the value of a 0-d TensorFlow tensor, else raise Mismatch saying what came back."""
    if result is None:
        raise Mismatch(what, "None (is a `return` missing?)")
    if not isinstance(result, TensorValue):
        raise Mismatch(
            "a TensorFlow tensor (the tape can only follow TensorFlow operations)",
            f"{type(result).__name__}: {short(result)}",
        )
    if result.value.ndim != 0:
        raise Mismatch(f"{what} (shape ())", f"shape {tuple(result.value.shape)}")
    if result.value.dtype.kind not in "iuf":
        raise Mismatch(f"{what} of real numbers", f"dtype {result.value.dtype}")
    return float(result.value)


def array_like(result, shape, what="an array"):
    if result is None:
        raise Mismatch(f"{what} of shape {shape}", "None (is a `return` missing?)")
    if not isinstance(result, np.ndarray):
        raise Mismatch(f"a numpy array of shape {shape}", f"{type(result).__name__}")
    if result.shape != shape:
        raise Mismatch(f"{what} of shape {shape}", f"shape {result.shape}")
    if not np.issubdtype(result.dtype, np.number):
        raise Mismatch("a numeric array", f"dtype {result.dtype}")
    if np.issubdtype(result.dtype, np.floating) and not np.all(np.isfinite(result)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(result))[0])
        raise Mismatch("finite values", f"{result[bad]} at index {bad}")
    return result


def close_to(expected, *, rtol=1e-6, atol=1e-9, what="an array"):
    """Verifier: an array of ``expected``'s shape, element-wise close to it."""
    expected = np.asarray(expected, dtype=float)

    def verify(result):
        result = array_like(result, expected.shape, what)
        if not np.allclose(result, expected, rtol=rtol, atol=atol):
            worst = np.unravel_index(np.argmax(np.abs(result - expected)), expected.shape)
            worst = tuple(int(i) for i in worst)
            raise Mismatch(
                f"{short(expected)}",
                f"{short(result)}\n      (largest difference at index {worst}: "
                f"{float(result[worst]):.6g} instead of {float(expected[worst]):.6g})",
            )

    return verify


def scalar_close_to(expected: float, *, rtol=1e-6, atol=1e-9):
    """Verifier: a float (Python or NumPy scalar, or 0-d array) close to ``expected``."""

    def verify(result):
        if result is None:
            raise Mismatch(f"the number {expected:.6g}", "None (is a `return` missing?)")
        if np.ndim(result) != 0 or not isinstance(result, int | float | np.number | np.ndarray):
            raise Mismatch(f"a single number ({expected:.6g})", short(result))
        value = float(result)
        if not math.isclose(value, expected, rel_tol=rtol, abs_tol=atol):
            flipped = expected and math.isclose(-value, expected, rel_tol=rtol, abs_tol=atol)
            raise Mismatch(f"{expected:.6g}", f"{value:.6g}" + (" (the sign is flipped)" * flipped))

    return verify
