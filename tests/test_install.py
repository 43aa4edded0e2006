"""The installed path: `helpers` as a wheel in a fresh environment, as hubs and `%pip` get it.

One slow test builds the sdist and, from it, the wheel (so both are complete), installs the wheel
with the lock into a new virtual environment outside the repository, and runs a NumPy lesson and
a TensorFlow lesson copied to an empty folder, then grades one. A second runs postBuild, the step
repo2docker (Binder, JupyterHub images) takes, on a copy of the repository. Nothing of the
checkout may be on `sys.path` in either.
"""

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UV = str(Path(sys.executable).with_name("uv"))
NUMPY_LESSON, TENSORFLOW_LESSON = "05_softmax_regression.ipynb", "06_tensorflow_quadratic.ipynb"
# Run in the fresh environment: where helpers comes from, and whether its data and checks load.
PROBE = """
import json, sys
import helpers, helpers.checks
from helpers.data import load_digits
from helpers.quiz import load_quiz
from helpers.tuning_table import load_tuning_table
X, y = load_digits("test")
print(json.dumps({"helpers": helpers.__file__, "path": sys.path, "test_examples": len(y),
                  "questions": len(load_quiz()), "exercises": len(helpers.checks.EXERCISES),
                  "table_entries": load_tuning_table().accuracy.size}))
"""

pytestmark = pytest.mark.slow


def _run(*command, cwd, env=None):
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=900
    )
    assert result.returncode == 0, (
        f"{' '.join(map(str, command))}\n{result.stdout}\n{result.stderr}"
    )
    return result.stdout


def _clean_env(venv: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env['PATH']}"
    # matplotlib's font cache names the fonts of *this* venv, which is deleted afterwards: kept
    # in the user's cache, it would leave every later plot without STIX ("findfont" on stderr)
    env["MPLCONFIGDIR"] = str(venv.parent / "matplotlib")
    return env


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory):
    """A virtual environment outside the repository with the runtime lock and nothing else."""
    venv = tmp_path_factory.mktemp("learner") / "venv"
    _run(UV, "venv", "--quiet", "--python", sys.executable, str(venv), cwd=venv.parent)
    _run(
        UV, "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"),
        "-r", str(ROOT / "requirements.txt"), cwd=venv.parent,
    )  # fmt: skip
    return venv


def _source_copy(dest: Path) -> Path:
    """Copy the files git would clone (tracked, or new and not ignored) to ``dest``."""
    listed = _run(
        "git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=ROOT
    ).split("\0")
    for name in filter(None, listed):
        if (ROOT / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, dest / name)
    return dest


def _probe(venv: Path, cwd: Path) -> dict:
    return json.loads(
        _run(str(venv / "bin" / "python"), "-c", PROBE, cwd=cwd, env=_clean_env(venv))
    )


def _assert_installed_not_checkout(found: dict, venv: Path):
    assert Path(found["helpers"]).is_relative_to(venv), found["helpers"]
    on_path = [p for p in found["path"] if p and Path(p).resolve().is_relative_to(ROOT)]
    assert not on_path, f"the checkout is on sys.path: {on_path}"
    assert found["test_examples"] == 355 and found["questions"] >= 1 and found["exercises"] >= 1
    assert found["table_entries"] == 7 * 3 * 5 * 4 * 3  # notebook 08's tuning table, checked


def test_the_wheel_carries_everything_and_runs_the_lessons_outside_the_checkout(
    fresh_venv, tmp_path
):
    dist = tmp_path / "dist"
    # sdist first, then the wheel from the unpacked sdist: both must be complete.
    _run(
        UV,
        "build",
        "--quiet",
        "--out-dir",
        str(dist),
        str(_source_copy(tmp_path / "src")),
        cwd=tmp_path,
    )
    (wheel,) = dist.glob("*.whl")

    in_wheel = set(zipfile.ZipFile(wheel).namelist())
    sources = {p.relative_to(ROOT).as_posix() for p in (ROOT / "helpers").rglob("*.py")}
    sources |= {p.relative_to(ROOT).as_posix() for p in (ROOT / "helpers/course/static").iterdir()}
    assert sources <= in_wheel, f"missing from the wheel: {sorted(sources - in_wheel)}"
    shipped_tables = ("tuning_table.csv.gz", "model_comparison.csv.gz")
    for name in ("digits.csv.gz", "quiz.yaml", *shipped_tables, "README.md"):
        shipped = f"helpers/shipped_data/{name}"
        assert zipfile.ZipFile(wheel).read(shipped) == (ROOT / "data" / name).read_bytes()

    python = str(fresh_venv / "bin" / "python")
    _run(UV, "pip", "install", "--quiet", "--python", python, "--no-deps", str(wheel), cwd=tmp_path)
    work = tmp_path / "lessons"
    work.mkdir()
    _assert_installed_not_checkout(_probe(fresh_venv, work), fresh_venv)

    for name in (NUMPY_LESSON, TENSORFLOW_LESSON):
        shutil.copy(ROOT / "notebooks" / name, work / name)
    env = _clean_env(fresh_venv)
    # Executes each copy in a kernel of the fresh environment; any cell error fails the run.
    _run(
        python,
        "-m",
        "helpers.course.execute",
        "--in-place",
        NUMPY_LESSON,
        TENSORFLOW_LESSON,
        cwd=work,
        env=env,
    )
    for name in (NUMPY_LESSON, TENSORFLOW_LESSON):
        cells = json.loads((work / name).read_text())["cells"]
        outputs = [o for c in cells if c["cell_type"] == "code" for o in c["outputs"]]
        assert outputs and not [o for o in outputs if o["output_type"] == "error"]

    # The grader reads the instructor notebooks from --course-dir: a package has no notebooks/.
    # Sandboxed where it can be (root and bubblewrap, as in CI), else trusted.
    sandboxed = shutil.which("bwrap") is not None and os.geteuid() == 0
    _run(
        python, "-m", "helpers.course.grade", NUMPY_LESSON, "--course-dir", ".",
        "--json", "report.json", *([] if sandboxed else ["--no-sandbox"]), cwd=work, env=env,
    )  # fmt: skip
    (report,) = json.loads((work / "report.json").read_text())  # --json: always a list
    assert report["max_score"] > 0 and report["score"] == report["max_score"], report
    _run(UV, "pip", "uninstall", "--quiet", "--python", python, "dnn-week3-helpers", cwd=tmp_path)


def test_postbuild_installs_helpers_as_repo2docker_would(fresh_venv, tmp_path):
    # repo2docker runs postBuild in the repository's root with the environment's python first
    # on PATH, after installing environment.yml's pins (here: the lock, in fresh_venv).
    repo = _source_copy(tmp_path / "repo")
    python = str(fresh_venv / "bin" / "python")
    _run(
        UV, "pip", "install", "--quiet", "--python", python, "pip", cwd=repo
    )  # conda envs have pip
    _run("bash", "postBuild", cwd=repo, env=_clean_env(fresh_venv))
    shutil.rmtree(repo)  # what was installed must not need the source any more
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    _assert_installed_not_checkout(_probe(fresh_venv, elsewhere), fresh_venv)
