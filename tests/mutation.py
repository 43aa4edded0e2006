"""Mutation testing of the checks: what share of small changes to each reference do they reject?

For every exercise, each mutant is the course's reference function with one small change made to
its syntax tree: an arithmetic or comparison operator swapped, a constant moved by one (or
doubled, or zeroed), ``axis``/``keepdims`` flipped, the first two arguments of a call swapped,
a ``not`` or a unary minus dropped. A mutant is *rejected* when the notebook's check fails it, or
when the grader's hidden cases (drawn with two seeds) do. What survives is listed with its change:
either a mutant the checks should catch, or one that computes the same thing (equivalent).

``make mutation`` runs it and writes ``build/mutation.json``. (mutmut mutates whole modules and
runs a test suite per mutant in a copy of the tree; here each mutant is one function, judged by
its own check in this process, which takes minutes instead of hours.)

Usage: python tests/mutation.py [exercise ...]
"""

import argparse
import ast
import contextlib
import copy
import inspect
import io
import json
import signal
import sys
import textwrap
import time
from pathlib import Path

import numpy as np

from helpers import checks
from helpers.checks.cases import judge
from helpers.checks.driver import quietly
from helpers.checks.probes import observe
from helpers.checks.stand_ins import references_in_place

ROOT = Path(__file__).resolve().parent.parent
SECONDS_PER_MUTANT = 120
HIDDEN_SEEDS = (0, 1)

SWAPS = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.Pow: ast.Mult,
    ast.FloorDiv: ast.Div,
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.And: ast.Or,
    ast.Or: ast.And,
}


def _constant_changes(value) -> list:
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, int):
        return [value + 1, value - 1] if value else [1]
    if isinstance(value, float):
        return [value * 2, 0.0] if value else [1.0]
    return []


def _sites(function_def: ast.FunctionDef) -> list:
    """Every ``(path to a node, new node, description)`` of one mutation of the function's body
    (docstrings and message f-strings left alone)."""
    sites = []
    skip = set()
    for node in ast.walk(function_def):
        if isinstance(node, ast.JoinedStr):
            skip.update(id(n) for n in ast.walk(node))
    body = function_def.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        skip.update(id(n) for n in ast.walk(body[0]))
    for node in ast.walk(function_def):
        if id(node) in skip:
            continue
        line = getattr(node, "lineno", None)
        if isinstance(node, ast.BinOp | ast.BoolOp) and type(node.op) in SWAPS:
            new = copy.copy(node)
            new.op = SWAPS[type(node.op)]()
            sites.append((node, new, f"{type(node.op).__name__} → {type(new.op).__name__}", line))
        elif isinstance(node, ast.Compare) and type(node.ops[0]) in SWAPS:
            new = copy.copy(node)
            new.ops = [SWAPS[type(node.ops[0])](), *node.ops[1:]]
            sites.append(
                (node, new, f"{type(node.ops[0]).__name__} → {type(new.ops[0]).__name__}", line)
            )
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.Not):
            sites.append((node, node.operand, f"drop {type(node.op).__name__}", line))
        elif isinstance(node, ast.Constant) and not isinstance(node.value, str):
            for value in _constant_changes(node.value):
                sites.append((node, ast.Constant(value), f"{node.value!r} → {value!r}", line))
        elif isinstance(node, ast.Call) and len(node.args) >= 2:
            new = copy.copy(node)
            new.args = [node.args[1], node.args[0], *node.args[2:]]
            sites.append((node, new, "swap the first two arguments", line))
    return sites


class _Replace(ast.NodeTransformer):
    def __init__(self, old, new):
        self.old, self.new = old, new

    def visit(self, node):
        if node is self.old:
            return self.new
        return super().visit(node)


def mutants(reference):
    """Yield ``(description, function)`` for each mutant of ``reference``."""
    source = textwrap.dedent(inspect.getsource(reference))
    module = sys.modules[reference.__module__]
    tree = ast.parse(source)
    function_def = tree.body[0]
    original = ast.dump(function_def)
    for i in range(len(_sites(function_def))):
        mutated = copy.deepcopy(tree)  # the sites of a fresh copy, in the same order
        old, new, what, line = _sites(mutated.body[0])[i]
        mutated = _Replace(old, new).visit(mutated)
        if ast.dump(mutated.body[0]) == original:
            continue
        ast.fix_missing_locations(mutated)
        namespace = dict(vars(module))
        line_in_file = reference.__code__.co_firstlineno + (line or 1) - 1
        try:
            exec(compile(mutated, f"<mutant {i} of {reference.__name__}>", "exec"), namespace)
        except Exception:  # a mutant that does not compile is no mutant
            continue
        yield f"line {line_in_file}: {what}", namespace[reference.__name__]


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout


def rejected(exercise, function) -> str | None:
    """How the checks reject ``function`` ("check", "hidden", "timeout"), or None."""
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(SECONDS_PER_MUTANT)
    try:
        with contextlib.redirect_stdout(io.StringIO()), quietly():
            try:
                exercise.check(function)
            except checks.CheckFailure:
                return "check"
        table = exercise.cases()
        for seed in HIDDEN_SEEDS:
            hidden = exercise.hidden_cases(np.random.default_rng(seed))
            with references_in_place(function, dict(table.uses)):
                for case in hidden:
                    raw = json.loads(json.dumps(observe(function, **case.request())))
                    if judge(exercise.function, case, raw, table.arg_names):
                        return "hidden"
        return None
    except _Timeout:
        return "timeout"
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def run(names) -> dict:
    report = {}
    for name in names:
        exercise = checks.EXERCISES[name]
        started = time.monotonic()
        outcomes, survivors = {"check": 0, "hidden": 0, "timeout": 0}, []
        total = 0
        for what, function in mutants(exercise.reference):
            total += 1
            how = rejected(exercise, function)
            if how:
                outcomes[how] += 1
            else:
                survivors.append(what)
        killed = sum(outcomes.values())
        report[name] = {
            "mutants": total,
            "rejected": killed,
            "by_the_check": outcomes["check"] + outcomes["timeout"],
            "by_hidden_cases": outcomes["hidden"],
            "share": round(killed / total, 3) if total else None,
            "survivors": survivors,
            "seconds": round(time.monotonic() - started, 1),
        }
        print(
            f"{name:25s} {killed:3d}/{total:3d} rejected ({killed / max(total, 1):.0%}; by the "
            f"check {report[name]['by_the_check']}, by hidden cases {outcomes['hidden']})",
            flush=True,
        )
        for what in survivors:
            print(f"    survived: {what}", flush=True)
    return report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("exercises", nargs="*", help="exercise names (default: all 19)")
    parser.add_argument("--json", type=Path, default=ROOT / "build" / "mutation.json")
    args = parser.parse_args(argv)
    names = args.exercises or list(checks.EXERCISES)
    unknown = [n for n in names if n not in checks.EXERCISES]
    if unknown:
        parser.error(f"unknown exercises: {', '.join(unknown)}")
    report = run(names)
    total = sum(r["mutants"] for r in report.values())
    killed = sum(r["rejected"] for r in report.values())
    print(f"all exercises: {killed}/{total} mutants rejected ({killed / max(total, 1):.0%})")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
