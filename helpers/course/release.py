"""Student versions of the notebooks: ``make student`` (``python -m helpers.course.release``).

    python -m helpers.course.release [--force] --out student notebooks/*.ipynb

Each ``### BEGIN SOLUTION`` … ``### END SOLUTION`` region becomes
``# YOUR CODE HERE`` / ``raise NotImplementedError()`` (what nbgrader's ClearSolutions writes),
``### BEGIN HIDDEN TESTS`` … ``### END HIDDEN TESTS`` regions are removed, outputs are
cleared and nbgrader metadata is kept.

So that a lesson keeps running past an exercise a student has not solved, each check cell
(nbgrader ``grade_id`` ``check_<name>``) is tagged ``raises-exception`` (JupyterLab's *Run All*
and nbclient go on after it), and a failing check puts the course's version of the function in
place for the cells below (:func:`helpers.checks.driver.run_cases`). A notebook with exercises
ends with a cell that shows which of them pass now (:func:`helpers.checks.progress`).

A student's work is never lost: ``<out>/.release.json`` records what this tool last wrote. A
file that differs from that record was edited by a person; it is kept, the fresh version is
written next to it as ``NN_topic.fresh.ipynb``, and ``--force`` is needed to replace it.
"""

import argparse
import copy
import hashlib
import json
import re
import sys
from pathlib import Path

import nbformat

from helpers.course import cells
from helpers.course.notebook_io import read_notebook, write_atomically, write_text_atomically

SOLUTION = ("### BEGIN SOLUTION", "### END SOLUTION")
HIDDEN_TESTS = ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")
CODE_STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
MARKDOWN_STUB = "YOUR ANSWER HERE"
MANIFEST = ".release.json"
KEEP_RUNNING_TAG = "raises-exception"
PROGRESS_MARKDOWN = (
    "## Your progress\n\n"
    "The cell below runs each exercise's check again, quietly, on the functions defined above "
    "and shows which pass now. Run it (or *Run All*) whenever you want to know."
)
PROGRESS_CODE = 'from helpers.checks import progress\n\nprogress("{notebook}", globals())'


def progress_cells(notebook: str) -> list:
    """The markdown and code cells that close a student notebook with its exercises' status."""
    meta = {cells.COURSE_KEY: {"progress": True}}
    # fixed ids, so that releasing the same notebook twice writes the same file
    return [
        nbformat.v4.new_markdown_cell(
            PROGRESS_MARKDOWN, metadata=copy.deepcopy(meta), id="course-progress-title"
        ),
        nbformat.v4.new_code_cell(
            PROGRESS_CODE.format(notebook=notebook), metadata=meta, id="course-progress"
        ),
    ]


def _has_exercises(notebook: str) -> bool:
    from helpers.checks import EXERCISES  # only here: the checks need NumPy and the lessons

    return any(e.notebook == notebook for e in EXERCISES.values())


def _replace_regions(source: str, markers, replacement, where: str) -> str:
    """Replace every ``markers`` region of ``source`` by ``replacement(indent)`` lines."""
    begin, end = markers
    out, inside, indent = [], False, ""
    for number, line in enumerate(source.splitlines(), start=1):
        stripped = line.strip()
        if stripped == begin:
            if inside:
                raise ValueError(f"{where}: line {number}: {begin!r} inside another region")
            inside, indent = True, line[: len(line) - len(line.lstrip())]
            out.extend(indent + text for text in replacement)
        elif stripped == end:
            if not inside:
                raise ValueError(f"{where}: line {number}: {end!r} without {begin!r}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"{where}: {begin!r} is never closed by {end!r}")
    return "\n".join(out)


def student_version(nb: nbformat.NotebookNode, name: str = "notebook") -> nbformat.NotebookNode:
    """Return a copy of ``nb`` with solutions stubbed, hidden tests removed, outputs cleared,
    check cells tagged to let *Run All* go on, and (for a notebook ``name`` with exercises) the
    closing progress cells."""
    nb = copy.deepcopy(nb)
    nb.metadata.pop("widgets", None)  # stored widget state belongs to the solved outputs
    for index, cell in enumerate(nb.cells):
        where = f"{name}, cell {index}"
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            if cells.is_solution(cell):
                cell.source = _replace_regions(cell.source, SOLUTION, CODE_STUB, where)
            cell.source = _replace_regions(cell.source, HIDDEN_TESTS, (), where)
        elif cells.is_solution(cell):
            if SOLUTION[0] in cell.source:
                cell.source = _replace_regions(cell.source, SOLUTION, (MARKDOWN_STUB,), where)
            else:
                cell.source = MARKDOWN_STUB
        if cell.cell_type == "code" and re.search(
            r"^\s*### (BEGIN|END) (SOLUTION|HIDDEN TESTS)\s*$", cell.source, re.M
        ):
            raise ValueError(f"{where}: solution markers outside an nbgrader solution cell")
        if cells.is_check(cell):
            tags = cell.metadata.setdefault("tags", [])
            if KEEP_RUNNING_TAG not in tags:
                tags.append(KEEP_RUNNING_TAG)
    notebook = Path(name).stem
    if _has_exercises(notebook):
        nb.cells.extend(progress_cells(notebook))
    return nb


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def release(paths, out_dir, *, force: bool = False) -> list[str]:
    """Write the student version of each notebook into ``out_dir``; return one line per file."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest_path = out_dir / MANIFEST
    manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    report = []
    for path in map(Path, paths):
        fresh = student_version(read_notebook(path), path.name)
        fresh_bytes = nbformat.writes(fresh).encode() + b"\n"
        target = out_dir / path.name
        if target.is_file():
            on_disk = _sha(target.read_bytes())
            if on_disk == _sha(fresh_bytes):
                report.append(f"= {target} is up to date")
                continue
            if on_disk != manifest.get(target.name) and not force:
                aside = target.with_name(target.stem + ".fresh.ipynb")
                write_atomically(fresh, aside)
                manifest[aside.name] = _sha(aside.read_bytes())
                report.append(
                    f"! {target} has your edits and was kept; the new version is {aside} "
                    "(rerun with --force to replace yours)"
                )
                continue
        write_atomically(fresh, target)
        manifest[target.name] = _sha(target.read_bytes())
        report.append(f"✓ {target}")
    write_text_atomically(json.dumps(manifest, indent=1, sort_keys=True) + "\n", manifest_path)
    return report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Write student versions of the notebooks.")
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=Path("student"), help="output folder")
    parser.add_argument("--force", action="store_true", help="replace copies a person edited")
    args = parser.parse_args(argv)
    missing = [str(p) for p in args.notebooks if not p.is_file()]
    if missing:
        parser.error(f"no such notebook: {', '.join(missing)}")
    try:
        lines = release(args.notebooks, args.out, force=args.force)
    except ValueError as error:
        print(f"✗ {error}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
