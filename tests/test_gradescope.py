"""Gradescope: ``make gradescope-autograder``'s zip, and its run_autograder on a submission in a
temporary ``/autograder``-shaped tree, the way Gradescope runs it."""

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from grading_support import HAVE_SANDBOX, MAX, submission

from helpers.course.grading import gradescope

REPOSITORY = Path(__file__).resolve().parent.parent


def test_the_zip_holds_the_two_scripts_at_its_top_and_the_course(tmp_path):
    names = gradescope.build_autograder(REPOSITORY, tmp_path / "autograder.zip")
    with zipfile.ZipFile(tmp_path / "autograder.zip") as archive:
        listed = archive.namelist()
        mode = archive.getinfo("run_autograder").external_attr >> 16
    assert listed == names and listed[:2] == ["setup.sh", "run_autograder"]
    assert mode & 0o111 and "helpers/course/grade.py" in listed
    assert "notebooks/05_softmax_regression.ipynb" in listed and "requirements.txt" in listed
    assert not any(name.startswith("tests/") for name in listed)
    for script in ("setup.sh", "run_autograder"):
        subprocess.run(["bash", "-n", str(REPOSITORY / "gradescope" / script)], check=True)


@pytest.mark.slow
def test_run_autograder_writes_gradescope_results_for_a_submission(tmp_path):
    root = tmp_path / "autograder"
    gradescope.build_autograder(REPOSITORY, tmp_path / "autograder.zip")
    with zipfile.ZipFile(tmp_path / "autograder.zip") as archive:
        archive.extractall(root / "source")
    submission(root / "submission", softmax="def softmax(Z):\n    return Z")
    env = {
        **os.environ,
        "AUTOGRADER_ROOT": str(root),
        "DNN_WEEK3_PYTHON": sys.executable,  # the image's .venv, here this one
        "GRADER_FLAGS": "" if HAVE_SANDBOX else "--no-sandbox",
    }
    script = root / "source" / "run_autograder"
    done = subprocess.run(["bash", str(script)], env=env, capture_output=True, timeout=600)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == MAX - 2
    tests = results["tests"]
    assert all(set(t) == {"name", "score", "max_score", "output", "visibility"} for t in tests)
    assert sum(t["max_score"] for t in tests) == pytest.approx(MAX, abs=1e-3)
    hidden = [t for t in tests if "hidden case" in t["name"]]
    assert hidden and all(t["visibility"] == "after_published" for t in hidden)
    softmax = [t for t in tests if t["name"].startswith("softmax —")]
    assert all(t["score"] == 0 for t in softmax) and "✗ softmax" in softmax[0]["output"]
