"""Tables of training results shipped in ``data/``: written reproducibly, read with a checksum.

Some evidence takes minutes of training, more than a lesson may spend; it is computed once by a
module's ``build`` command and shipped as a gzip-compressed CSV file whose ``#`` header lines say
how, when and on what it was built. :func:`write_table` writes such a file so that the same
results always give the same bytes; :func:`read_table` refuses a file whose SHA-256 is not the
one the module expects, and returns the header and the rows.
"""

import argparse
import datetime
import gzip
import hashlib
import os
import platform
from pathlib import Path


def cpu_name() -> str:
    """Return the CPU's model name (from ``/proc/cpuinfo`` where there is one)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def provenance(built_by: str, seconds: float, n_trainings: int) -> list:
    """Return the header lines that say how, when and on what a table was built."""
    import keras
    import numpy as np
    import tensorflow as tf

    return [
        f"# built by: {built_by}",
        f"# date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC",
        f"# seconds: {seconds:.0f} ({n_trainings} trainings on 1 thread)",
        f"# machine: {platform.machine()} {cpu_name()}",
        f"# python {platform.python_version()}, numpy {np.__version__}, "
        f"tensorflow {tf.__version__}, keras {keras.__version__}",
    ]


def write_table(path, header: list, columns: tuple, rows: list) -> str:
    """Write ``header`` (``#`` lines), the column names and ``rows`` (CSV lines) to ``path``,
    gzip-compressed without a time stamp; return the file's SHA-256."""
    text = "\n".join([*header, ",".join(columns), *rows]) + "\n"
    raw = gzip.compress(text.encode(), compresslevel=9, mtime=0)
    Path(path).write_bytes(raw)
    return hashlib.sha256(raw).hexdigest()


def read_table(source, expected_sha256, *, name: str, columns: tuple, restore: str):
    """Return ``(provenance, rows)`` of the table at ``source``: its ``#`` lines without the
    ``# `` and its data lines after the column names.

    Args:
        source: a path or ``importlib.resources`` file.
        expected_sha256: the SHA-256 the file must have, or ``None`` not to check it.
        name: what the table is called in error messages ("comparison table").
        columns: the column names the file must start its data with.
        restore: a sentence saying how to get a good copy back.

    Raises:
        FileNotFoundError: there is no file at ``source``.
        ValueError: the checksum differs, or the columns are not ``columns``.
    """
    if not source.is_file():
        raise FileNotFoundError(f"{name} not found: {source}. {restore}")
    raw = source.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if expected_sha256 is not None and digest != expected_sha256:
        raise ValueError(
            f"{name} is corrupt: {source} has SHA-256 {digest}, expected {expected_sha256}. "
            f"{restore}"
        )
    lines = gzip.decompress(raw).decode().splitlines()
    body = [line for line in lines if not line.startswith("#")]
    if not body or body[0] != ",".join(columns):
        raise ValueError(f"{source}: expected the columns {','.join(columns)}")
    return tuple(line[2:] for line in lines if line.startswith("#")), body[1:]


def build_command(argv, *, module: str, what: str, table_file: str, build, jobs=False) -> int:
    """The ``python -m <module> build [--out PATH] [--jobs N]`` command of a shipped table:
    ``build(out)`` (or ``build(out, jobs=N)``) writes it and returns its SHA-256, printed with
    where it must go next."""
    parser = argparse.ArgumentParser(prog=f"python -m {module}", description=f"Build {what}.")
    parser.add_argument("command", choices=("build",))
    parser.add_argument(
        "--out", default=str(Path(__file__).resolve().parent.parent / "data" / table_file)
    )
    if jobs:
        parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    digest = build(args.out, jobs=args.jobs) if jobs else build(args.out)
    print(f"wrote {args.out}\nSHA-256 {digest} (put it in TABLE_SHA256 and data/README.md)")
    return 0
