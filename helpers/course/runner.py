"""The only grading code that runs beside a student's: ``python -m helpers.course.runner DIR``.

It runs in the sandbox, in a fresh directory ``DIR`` holding ``program.json`` (written by the
grader): the instructor's set-up cells, the course's reference versions of the functions this
exercise builds on, the student's exercise cell, and the check's cases as plain data. It calls
the student's function on each case (:func:`helpers.checks.probes.observe`) and writes what came
back to ``DIR/result.json``. It decides nothing: the grader judges that data in its own process,
so whatever the student's code does to this process can only change the data, not the verdict.
"""

import json
import sys
import types
from pathlib import Path


def _compile(source: str, name: str):
    try:
        return compile(source, name, "exec")
    except SyntaxError:
        # IPython syntax (%magics, !commands) in a cell: what JupyterLab would have run
        from IPython.core.inputtransformer2 import TransformerManager

        return compile(TransformerManager().transform_cell(source), name, "exec")


def _describe(error: BaseException) -> str:
    try:
        return f"{type(error).__name__}: {error}"[:2000]
    except Exception:
        return type(error).__name__


def _reference_functions(dependency: dict) -> dict:
    """Execute a reference module's source as its own module; return the functions named."""
    module = types.ModuleType(f"_reference_{dependency['module']}")
    exec(compile(dependency["source"], f"<reference {dependency['module']}>", "exec"), vars(module))
    return {name: getattr(module, name) for name in dependency["names"]}


def run(directory: Path) -> dict:
    # Imported before any student code runs, so a finder or module the cell plants cannot
    # replace it (what it reports is judged elsewhere in any case).
    from helpers.checks.probes import observe

    program = json.loads((directory / "program.json").read_text(encoding="utf-8"))
    namespace = {"__name__": "__main__", "__builtins__": __builtins__}
    result = {"setup_error": None, "cell_error": None, "found": False, "observations": []}
    for i, source in enumerate(program["setup"]):
        try:
            exec(_compile(source, f"<set-up cell {i + 1}>"), namespace)
        except BaseException as error:  # the instructor's cells: the grader reports it
            result["setup_error"] = _describe(error)
            return result
    references = {}
    for dependency in program["dependencies"]:
        references.update(_reference_functions(dependency))
    namespace.update(references)
    exercise = program["exercise"]
    if exercise["source"] is not None:
        try:
            exec(_compile(exercise["source"], "<exercise cell>"), namespace)
        except BaseException as error:  # SystemExit and KeyboardInterrupt too: report, go on
            result["cell_error"] = _describe(error)
    # The reference stands in for every earlier exercise this one builds on, whatever the cell
    # did to those names (the same rule as the notebook's check, run_cases's ``uses``).
    namespace.update(references)
    function = namespace.get(exercise["function"])
    if not callable(function):
        return result
    result["found"] = True
    for request in program["cases"]:
        result["observations"].append(observe(function, **request))
    return result


def main(argv=None) -> int:
    directory = Path((argv or sys.argv[1:])[0])
    result = run(directory)
    (directory / "result.json.tmp").write_text(json.dumps(result), encoding="utf-8")
    (directory / "result.json.tmp").rename(directory / "result.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
