"""``--similarity``: exercise cells that match after normalising, the way instructors use MOSS.

A cell is parsed and normalised: docstrings and comments dropped, every literal replaced by its
kind, independent statements put in one canonical order (two statements are independent when
neither writes a name the other reads or writes), and then every name renamed by its first
appearance (the exercise's own function name, builtins and attribute names kept). Two cells
that normalise to the same tree are reported as identical; two whose normalised statements
mostly agree (``difflib``'s ratio over their lines of at least :data:`NEAR`) as nearly
identical. A cell that
matches the course's own solution is reported too. A match is a lead for a person to read, not
a verdict: a short exercise has few ways to be written.
"""

import ast
import builtins
import difflib
import hashlib
import itertools
from pathlib import Path

from helpers.checks import EXERCISES
from helpers.course.grading.submission import exercise_cells, read_cells

NEAR = 0.9
_KEPT = set(dir(builtins))


class _Literals(ast.NodeTransformer):
    def visit_Constant(self, node):
        return ast.copy_location(ast.Constant(type(node.value).__name__), node)


def _strip_docstrings(tree) -> None:
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]


def _names(node, stores: bool) -> set:
    found = set()
    for child in ast.walk(node):
        if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store) == stores:
            found.add(child.id)
        elif stores and isinstance(child, ast.FunctionDef | ast.ClassDef):
            found.add(child.name)
        elif stores and isinstance(child, ast.Attribute | ast.Subscript):
            base = child.value
            while isinstance(base, ast.Attribute | ast.Subscript):
                base = base.value
            if isinstance(base, ast.Name) and isinstance(child.ctx, ast.Store):
                found.add(base.id)  # x.a = ... or x[i] = ... changes x
    return found


def _shape(node) -> str:
    """A statement with every name blanked: its place in the canonical order."""
    blank = ast.parse(ast.unparse(node))
    for child in ast.walk(blank):
        if isinstance(child, ast.Name):
            child.id = "_"
        elif isinstance(child, ast.arg):
            child.arg = "_"
    return ast.dump(blank)


def _reorder(statements: list) -> list:
    """Independent statements in one canonical order; dependent ones keep theirs."""
    info = [(s, _names(s, True), _names(s, False) | _names(s, True), _shape(s)) for s in statements]
    placed, order = [False] * len(info), []
    for _ in info:
        ready = [
            i
            for i, (_, writes, uses, _) in enumerate(info)
            if not placed[i]
            and all(placed[j] or not (writes & info[j][2] or info[j][1] & uses) for j in range(i))
        ]
        pick = min(ready, key=lambda i: info[i][3])
        placed[pick] = True
        order.append(info[pick][0])
    return order


class _Rename(ast.NodeTransformer):
    def __init__(self, keep):
        self.keep, self.names = keep, {}

    def _new(self, name):
        if name in self.keep:
            return name
        return self.names.setdefault(name, f"v{len(self.names)}")

    def visit_Name(self, node):
        node.id = self._new(node.id)
        return node

    def visit_arg(self, node):
        node.arg = self._new(node.arg)
        node.annotation = None
        return node

    def visit_FunctionDef(self, node):
        node.name = self._new(node.name)
        node.returns = None
        self.generic_visit(node)
        return node


def normalise(source: str, function: str) -> str | None:
    """The normalised form of an exercise cell, or None when it does not parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError):
        return None
    _strip_docstrings(tree)
    tree = _Literals().visit(tree)
    for node in ast.walk(tree):
        for field in ("body", "orelse", "finalbody"):
            block = getattr(node, field, None)
            if isinstance(block, list) and block and all(isinstance(s, ast.stmt) for s in block):
                setattr(node, field, _reorder(block))
    tree = _Rename(_KEPT | {function}).visit(tree)
    return ast.unparse(tree)


def report(reports, course_dir: Path) -> dict:
    """Per exercise, the pairs of submissions whose cells match after normalising, and the
    submissions whose cell matches the course's solution (in the instructor notebook)."""
    found = {}
    for function, exercise in EXERCISES.items():
        r_cells = {r.submission: r.cells[function] for r in reports if function in r.cells}
        cells = {k: normalise(source, function) for k, source in r_cells.items()}
        cells = {k: v for k, v in cells.items() if v and not _unsolved(r_cells[k])}
        if not cells:
            continue
        solution = _solution(course_dir, exercise.notebook, function)
        pairs = []
        for (a, x), (b, y) in itertools.combinations(sorted(cells.items()), 2):
            if x == y:
                pairs.append({"submissions": [a, b], "match": "identical after normalising"})
            else:
                lines_x, lines_y = x.splitlines(), y.splitlines()
                matcher = difflib.SequenceMatcher(None, lines_x, lines_y, autojunk=False)
                if matcher.quick_ratio() >= NEAR and matcher.ratio() >= NEAR:
                    pairs.append(
                        {"submissions": [a, b], "match": f"{matcher.ratio():.0%} of statements"}
                    )
        found[function] = {
            "pairs": pairs,
            "like_the_solution": sorted(k for k, v in cells.items() if solution and v == solution),
            "fingerprints": {
                k: hashlib.sha256(v.encode()).hexdigest()[:12] for k, v in sorted(cells.items())
            },
        }
    return found


def _unsolved(source: str) -> bool:
    """Whether a cell only defines functions that raise NotImplementedError (left as given)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError):
        return False
    _strip_docstrings(tree)
    return all(
        isinstance(node, ast.FunctionDef)
        and len(node.body) == 1
        and isinstance(node.body[0], ast.Raise)
        and "NotImplementedError" in ast.unparse(node.body[0])
        for node in tree.body
    )


def _solution(course_dir: Path, notebook: str, function: str) -> str | None:
    try:
        cells, _ = exercise_cells(read_cells(Path(course_dir) / f"{notebook}.ipynb"), {function})
    except ValueError:
        return None
    if function not in cells:
        return None
    source = "\n".join(
        line
        for line in cells[function].source.splitlines()
        if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION")
    )
    return normalise(source, function)
