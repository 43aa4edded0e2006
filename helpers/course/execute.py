"""Execute notebooks headless: ``make notebooks`` (store outputs) and ``make bench`` (time them).

    python -m helpers.course.execute --in-place [--force] notebooks/*.ipynb
    python -m helpers.course.execute --bench [--json build/bench.json] notebooks/*.ipynb

Stored outputs come only from here: each notebook runs top to bottom in a fresh kernel and is
written back atomically. If the file changed on disk while it ran (a person saved it in
JupyterLab), it is not overwritten unless ``--force`` is given.
"""

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

from helpers.course.notebook_io import kernel_peak_mb, make_client, read_notebook, write_atomically


def execute_notebook(path, *, timeout: int = 600):
    """Run the notebook at ``path`` in a fresh kernel, in its own folder.

    Returns:
        ``(nb, seconds, peak_mb)``: the executed notebook, the wall time from kernel start to
        the last cell, and the kernel's peak resident memory (None where it cannot be read).
    """
    path = Path(path)
    nb = read_notebook(path)
    client = make_client(nb, cwd=path.parent, timeout=timeout)
    start = time.perf_counter()
    # nbclient's execute() shuts the kernel down before we could read its memory, so the
    # same steps are taken here with the kernel still alive at the end. cleanup_kc: the client
    # does not own the kernel manager we gave it, and would otherwise leave every notebook's
    # kernel running (and competing for the CPU) until this process ends.
    with client.setup_kernel(cwd=str(path.parent), cleanup_kc=True):
        info = client.wait_for_reply(client.kc.kernel_info())
        nb.metadata["language_info"] = info["content"]["language_info"]
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index, execution_count=client.code_cells_executed + 1)
        client.set_widgets_metadata()
        seconds = time.perf_counter() - start
        peak_mb = kernel_peak_mb(client)
    return nb, seconds, peak_mb


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_in_place(paths, *, force: bool = False) -> int:
    """Execute each notebook and store its outputs; return the number that were not written."""
    refused = 0
    for path in map(Path, paths):
        before = _digest(path)
        nb, seconds, _ = execute_notebook(path)
        if _digest(path) != before and not force:
            print(f"✗ {path}: changed on disk while it ran; not overwritten (use --force)")
            refused += 1
            continue
        write_atomically(nb, path)
        print(f"✓ {path} ({seconds:.1f} s)")
    return refused


def bench(paths, json_path=None) -> list:
    """Execute each notebook without writing it; print a table and return the rows."""
    rows = []
    print(f"{'notebook':<42} {'seconds':>8} {'peak MB':>8}")
    for path in paths:
        _, seconds, peak_mb = execute_notebook(path)
        rows.append({"notebook": str(path), "seconds": round(seconds, 2), "peak_mb": peak_mb})
        peak = "n/a" if peak_mb is None else f"{peak_mb:.0f}"
        print(f"{path!s:<42} {seconds:>8.1f} {peak:>8}", flush=True)
    print(f"{'total':<42} {sum(r['seconds'] for r in rows):>8.1f}")
    if json_path:
        Path(json_path).parent.mkdir(parents=True, exist_ok=True)
        Path(json_path).write_text(json.dumps(rows, indent=2) + "\n")
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--in-place", action="store_true", help="store outputs in each notebook")
    mode.add_argument("--bench", action="store_true", help="time each notebook, write nothing")
    parser.add_argument("--force", action="store_true", help="overwrite even if edited meanwhile")
    parser.add_argument("--json", type=Path, help="with --bench: also write this JSON report")
    args = parser.parse_args(argv)
    missing = [str(p) for p in args.notebooks if not p.is_file()]
    if missing:
        parser.error(f"no such notebook: {', '.join(missing)}")
    if args.bench:
        bench(args.notebooks, args.json)
        return 0
    return 1 if run_in_place(args.notebooks, force=args.force) else 0


if __name__ == "__main__":
    sys.exit(main())
