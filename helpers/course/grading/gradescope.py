"""Gradescope's autograder format: ``--format gradescope`` and ``make gradescope-autograder``.

Gradescope runs ``/autograder/run_autograder`` once per submission (after
``/autograder/source/setup.sh`` built the image) with the submission in
``/autograder/submission/`` and reads ``/autograder/results/results.json``: a list of tests, each
with a name, a score, a maximum, an output and a visibility. Here every case is a test; an
exercise's points are shared among its cases and given only when all of them pass (scoring is
all or nothing per exercise, as in the grader's own report). Hidden cases are shown to the
student only after the grades are published (``after_published``), without their expected
values, like every hidden case's message.
"""


def results(report) -> dict:
    """Gradescope's ``results.json`` for one :class:`~.reports.Report`."""
    tests = []
    for verdict in report.verdicts:
        share = verdict.max_points / max(len(verdict.cases), 1)
        for case in verdict.cases:
            kind = "hidden case" if case.hidden else "case"
            tests.append(
                {
                    "name": f"{verdict.function} — {kind} {case.case!r}",
                    "score": round(share, 4) if verdict.passed else 0.0,
                    "max_score": round(share, 4),
                    "output": "passed" if case.passed else (case.message or "failed"),
                    "visibility": "after_published" if case.hidden else "visible",
                }
            )
    output = "\n".join(report.notes)
    if not report.graded:
        output = "Not graded: " + (output or "see the course staff")
    return {"score": report.score, "output": output, "tests": tests}


# ---- make gradescope-autograder ----------------------------------------------------------------

# What the autograder's image holds of this repository (the tests and the slides are not needed).
COURSE_FILES = ("Makefile", "pyproject.toml", "README.md")
COURSE_GLOBS = ("requirements*.txt", "requirements*.in", "helpers/**/*.py", "notebooks/*.ipynb",
                "data/*")  # fmt: skip


def build_autograder(repository, zip_path) -> list:
    """Write Gradescope's autograder zip: ``setup.sh`` and ``run_autograder`` at its top (from
    ``gradescope/``), the course beside them (Gradescope unpacks it into
    ``/autograder/source``); return the names written."""
    import zipfile
    from pathlib import Path

    repository, zip_path = Path(repository), Path(zip_path)
    names = []
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(zip_path.with_suffix(".tmp"), "w", zipfile.ZIP_DEFLATED) as archive:
        for script in ("setup.sh", "run_autograder"):
            info = zipfile.ZipInfo(script)
            info.external_attr = 0o755 << 16  # executable once unpacked
            archive.writestr(info, (repository / "gradescope" / script).read_bytes())
            names.append(script)
        files = [repository / name for name in COURSE_FILES]
        files += [p for pattern in COURSE_GLOBS for p in sorted(repository.glob(pattern))]
        for path in files:
            if path.is_file() and "__pycache__" not in path.parts:
                name = path.relative_to(repository).as_posix()
                archive.write(path, name)
                names.append(name)
    zip_path.with_suffix(".tmp").replace(zip_path)
    return names


def main(argv=None) -> int:
    import argparse
    from pathlib import Path

    parser = argparse.ArgumentParser(description="Build Gradescope's autograder zip.")
    parser.add_argument("--out", type=Path, default=Path("build/gradescope-autograder.zip"))
    args = parser.parse_args(argv)
    names = build_autograder(Path(__file__).resolve().parents[3], args.out)
    print(f"wrote {args.out} ({len(names)} files): upload it as the assignment's autograder")
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
