"""`make fragility`: which stored outputs would another CPU print differently?

Each notebook is executed under every numerics profile of ``tests/numerics_profiles.txt`` (the
environment variables that make this machine round like another CPU or core count) and each code
cell's outputs are compared with the stored ones the way nbval compares them: its sanitizer
(``tests/nbval_sanitize.cfg``), its comment markers and tags, its choice of what to compare (text,
not pictures). Every output that differs is listed with its notebook, cell and profiles, so a
printed result whose margin is smaller than what rounding can move is found on one machine,
before CI on another finds it. Outputs that differed only where the sanitizer masks them (a number
after "≈", a timing) are counted apart: that is the convention working.

Run from the repository root: ``.venv/bin/python tests/fragility.py [--jobs 2] [--profile NAME]
... notebooks/*.ipynb``. Exit status 1 when any unmasked output changed.
"""

import argparse
import json
import os
import re
import sys
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from nbval.plugin import (
    coalesce_streams,
    find_comment_markers,
    find_metadata_tags,
    get_sanitize_patterns,
    transform_streams_for_comparison,
)

ROOT = Path(__file__).resolve().parent.parent
SANITIZE = ROOT / "tests" / "nbval_sanitize.cfg"
# What nbval leaves out of a comparison (nbval/plugin.py, IPyNbFile.skip_compare).
NOT_COMPARED = {"metadata", "traceback", "prompt_number", "output_type", "name",
                "execution_count", "application/vnd.jupyter.widget-view+json",
                "image/png", "image/jpeg"}  # fmt: skip

# tests/ is on sys.path as this script's folder: the profiles are read by the test's own reader
from test_numerics_profiles import read_profiles  # noqa: E402


def _flatten(outputs) -> dict:
    """``{key: [text, ...]}`` of the outputs nbval compares (streams keyed by their name)."""
    flat = defaultdict(list)
    for output in transform_streams_for_comparison(coalesce_streams(outputs)):
        for key, value in output.items():
            if key in NOT_COMPARED:
                continue
            if key == "data":
                for mime, data in value.items():
                    if mime not in NOT_COMPARED:
                        flat[mime].append(data if isinstance(data, str) else json.dumps(data))
            else:
                flat[key].append(value if isinstance(value, str) else json.dumps(value))
    return dict(flat)


def _sanitize(flat: dict, patterns) -> dict:
    def clean(text):
        for regex, replace in patterns:
            text = re.sub(regex, replace, text)
        return text

    return {key: [clean(v) for v in values] for key, values in flat.items()}


def compared_cells(nb):
    """Yield ``(index, nbval_number, cell)`` for each code cell nbval compares."""
    number = 0
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        # nbval's own reading of the markers: comments win over tags; "check" False = ignored
        options = dict(find_metadata_tags(cell.metadata) or [])
        options.update(find_comment_markers(cell.source))
        if not options.get("skip") and options.get("check", True):
            yield index, number, cell
        number += 1


def replay(path: str, env: dict) -> list:
    """Execute ``path`` with ``env`` added to the kernel's environment; return its code cells'
    outputs (one list per cell, in order)."""
    from helpers.course.notebook_io import make_client, read_notebook

    nb = read_notebook(path)
    client = make_client(nb, cwd=Path(path).parent, timeout=900, allow_errors=True)
    client.execute(cwd=str(Path(path).parent), env={**os.environ, **env})
    return [cell.get("outputs", []) for cell in nb.cells]


def differences(path: str, replayed: list, patterns) -> tuple:
    """Return ``(unmasked, masked)``: lists of ``(index, nbval_number, key, stored, got)`` for
    the compared outputs that differ after nbval's sanitizer, and those that differ only before
    it."""
    from helpers.course.notebook_io import read_notebook

    nb = read_notebook(path)
    unmasked, masked = [], []
    for index, number, cell in compared_cells(nb):
        stored, got = _flatten(cell.outputs), _flatten(replayed[index])
        clean_stored, clean_got = _sanitize(stored, patterns), _sanitize(got, patterns)
        for key in sorted(set(stored) | set(got)):
            a, b = clean_stored.get(key, []), clean_got.get(key, [])
            if a != b:
                unmasked.append((index, number, key, "\n".join(a), "\n".join(b)))
            elif stored.get(key, []) != got.get(key, []):
                masked.append((index, number, key, "", ""))
    return unmasked, masked


def _changed_lines(stored: str, got: str) -> list:
    a, b = stored.splitlines(), got.splitlines()
    rows = []
    for i in range(max(len(a), len(b))):
        old = a[i] if i < len(a) else "(no line)"
        new = b[i] if i < len(b) else "(no line)"
        if old != new:
            rows.append((old, new))
    return rows


def _job(args):
    path, name, env = args
    start = time.perf_counter()
    replayed = replay(path, env)
    return path, name, replayed, time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+")
    parser.add_argument("--profile", action="append", help="only this profile (repeatable)")
    parser.add_argument("--jobs", type=int, default=2, help="notebook runs at once (default 2)")
    parser.add_argument("--json", type=Path, help="also write the report as JSON")
    args = parser.parse_args(argv)

    profiles = read_profiles()
    chosen = args.profile or list(profiles)
    unknown = [p for p in chosen if p not in profiles]
    if unknown:
        parser.error(f"no numerics profile {', '.join(unknown)} in tests/numerics_profiles.txt")
    patterns = get_sanitize_patterns(SANITIZE.read_text())
    jobs = [(str(nb), name, profiles[name]) for name in chosen for nb in args.notebooks]

    found = defaultdict(lambda: {"profiles": [], "lines": None})  # (nb, index, key) -> ...
    masked_count = defaultdict(int)
    started = time.perf_counter()
    with ProcessPoolExecutor(args.jobs, mp_context=get_context("spawn")) as pool:
        for path, name, replayed, seconds in pool.map(_job, jobs):
            unmasked, masked = differences(path, replayed, patterns)
            masked_count[name] += len(masked)
            print(f"{name:<12} {path:<45} {seconds:6.1f} s  changed {len(unmasked)}"
                  f" (masked {len(masked)})", flush=True)  # fmt: skip
            for index, number, key, stored, got in unmasked:
                entry = found[(path, index, number, key)]
                entry["profiles"].append(name)
                entry["lines"] = entry["lines"] or _changed_lines(stored, got)

    print(f"\n{len(jobs)} runs in {time.perf_counter() - started:.0f} s; outputs masked by the "
          f"sanitizer that changed: {sum(masked_count.values())}")  # fmt: skip
    if not found:
        print("no unmasked output changed under any profile")
    else:
        print(f"{len(found)} output(s) changed that nbval would compare:")
        for (path, index, number, key), entry in sorted(found.items()):
            print(f"\n{path} cell {index} (nbval's Cell {number}), {key}, under "
                  f"{', '.join(entry['profiles'])}:")  # fmt: skip
            for old, new in entry["lines"][:6]:
                print(f"  stored: {old}\n  got:    {new}")
    if args.json:
        report = [
            {"notebook": p, "cell": i, "nbval_cell": n, "key": k, **e}
            for (p, i, n, k), e in sorted(found.items())
        ]
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
