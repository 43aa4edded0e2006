"""Planning: what one submission's run is given, as plain data, and what stays in the grader.

For each exercise of an assignment, a batch has one :class:`ExerciseTable`: the check's public
cases and hidden cases drawn from the batch's seed (their expected values are computed here, by
the references, and never leave this process), and the stand-ins: the course's references of
the earlier exercises this one builds on, as the source of a small module holding those
functions and the private helpers they call, nothing else of their lesson module.

A :class:`Plan` is a submission's set-up cells (the instructor's), exercise cells and, per
exercise, those stand-ins and the cases' inputs: everything a run needs, no answer it could
read.
"""

import ast
import contextlib
import inspect
import io
import threading
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from helpers.checks import EXERCISES, Exercise
from helpers.checks.cases import Case, CaseTable
from helpers.course.sandbox import stub_body


def stand_in_module(module, names, graded) -> str:
    """The source of a module with ``module``'s imports, the functions ``names`` and every
    top-level function, class or assignment they use (transitively); any other graded
    function it would need is a stub."""
    tree = ast.parse(inspect.getsource(module))
    defined = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            defined[node.name] = node
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    defined[target.id] = node
    wanted, queue = set(), list(names)
    while queue:
        name = queue.pop()
        if name in wanted or name not in defined:
            continue
        wanted.add(name)
        if name in graded and name not in names:
            continue  # stubbed below: its body is not followed
        queue += [n.id for n in ast.walk(defined[name]) if isinstance(n, ast.Name)]
    body = []
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            body.append(node)
        elif any(defined.get(n) is node for n in wanted):
            if isinstance(node, ast.FunctionDef) and node.name in graded - set(names):
                stub_body(node, node.name)
            body.append(node)
    tree.body = body
    return ast.unparse(tree) + "\n"


def stand_ins(uses: dict) -> tuple:
    """The stand-ins of ``uses`` (name -> reference function) as plain data for the runner."""
    by_module = defaultdict(list)
    for name, function in uses.items():
        by_module[inspect.getmodule(function)].append(name)
    graded = set(EXERCISES)
    return tuple(
        {
            "module": module.__name__,
            "source": stand_in_module(module, names, graded),
            "names": names,
        }
        for module, names in by_module.items()
    )


@dataclass(frozen=True)
class ExerciseTable:
    """One exercise as a batch grades it: public cases first, then the hidden ones."""

    exercise: Exercise
    table: CaseTable
    cases: tuple[Case, ...]
    stand_ins: tuple[dict, ...]
    requests: tuple[dict, ...]  # the cases' inputs, as sent

    @property
    def name(self) -> str:
        return self.exercise.function


class BatchTables:
    """The exercise tables of one batch, made on first use: hidden cases drawn from ``seed``
    (a generator per exercise, so a table does not depend on which were made before it)."""

    def __init__(self, seed: int):
        self.seed = int(seed)
        self._tables = {}
        self._lock = threading.Lock()

    def __getitem__(self, function: str) -> ExerciseTable:
        with self._lock:
            if function not in self._tables:
                self._tables[function] = self._make(EXERCISES[function])
            return self._tables[function]

    def _make(self, exercise: Exercise) -> ExerciseTable:
        index = list(EXERCISES).index(exercise.function)
        rng = np.random.default_rng([self.seed, index])
        with contextlib.redirect_stdout(io.StringIO()):  # Keras and Optuna may print
            table = exercise.cases()
            hidden = exercise.hidden_cases(rng)
        cases = (*table.cases, *hidden)
        return ExerciseTable(
            exercise,
            table,
            cases,
            stand_ins(dict(table.uses)),
            tuple(case.request() for case in cases),
        )


@dataclass(frozen=True)
class ExercisePlan:
    """One exercise of a plan: the student's cell (None: not found) and what the run needs."""

    function: str
    source: str | None
    stand_ins: tuple[dict, ...]
    requests: tuple[dict, ...]

    def payload(self, limits: dict) -> dict:
        """What the runner receives for this exercise (see helpers.course.runner)."""
        return {
            "function": self.function,
            "source": self.source,
            "stand_ins": list(self.stand_ins),
            "cases": list(self.requests),
            "limits": limits,
        }


@dataclass(frozen=True)
class Plan:
    """What one submission's run is given: plain data, no expected value."""

    setup: tuple[str, ...]
    exercises: tuple[ExercisePlan, ...]

    @property
    def cost(self) -> float:
        """A rough relative cost of the run, to start the longest first: importing TensorFlow
        in the set-up is most of a run (measured: 6-7 s of the 9-13 s of 06-08's runs, 1-2 s
        for the others' whole set-up)."""
        return 5.0 if any("tensorflow" in source for source in self.setup) else 1.0

    def as_data(self) -> dict:
        return {
            "setup": list(self.setup),
            "exercises": [
                {
                    "function": e.function,
                    "source": e.source,
                    "stand_ins": list(e.stand_ins),
                    "requests": list(e.requests),
                }
                for e in self.exercises
            ],
        }

    @classmethod
    def from_data(cls, data: dict) -> "Plan":
        return cls(
            tuple(data["setup"]),
            tuple(
                ExercisePlan(
                    e["function"], e["source"], tuple(e["stand_ins"]), tuple(e["requests"])
                )
                for e in data["exercises"]
            ),
        )


def make_plan(setup, sources: dict, tables: list) -> Plan:
    """The plan of a submission: the instructor's ``setup`` cells, and per exercise table its
    cell's source from ``sources`` (function -> source, missing: None)."""
    return Plan(
        tuple(setup),
        tuple(ExercisePlan(t.name, sources.get(t.name), t.stand_ins, t.requests) for t in tables),
    )
