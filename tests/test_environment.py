"""The pip route (`make`) and the conda route (environment.yml) install the same pinned set."""

import re
import shutil
import subprocess
import sys
import tomllib
import types
from pathlib import Path

import check_lock
import pytest
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s#]+)")


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(path: Path) -> dict:
    pins = {}
    for line in path.read_text().splitlines():
        match = PIN.match(line.strip().lstrip("- ").strip())
        if match:
            pins[_canonical(match[1])] = match[2]
    return pins


def test_every_direct_dependency_is_pinned_exactly_with_a_reason():
    for name in ("requirements.in", "requirements-dev.in", "requirements-distributed.in"):
        for line in (ROOT / name).read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                assert PIN.match(line) or re.match(r"^[\w\-]+\[[\w,]+\]==", line), (
                    f"{name}: not an exact pin: {line!r}"
                )
                assert "#" in line, f"{name}: say who needs it: {line!r}"


def test_lock_files_hold_the_direct_pins():
    locked = _pins(ROOT / "requirements.txt") | _pins(ROOT / "requirements-dev.txt")
    direct = _pins(ROOT / "requirements.in") | _pins(ROOT / "requirements-dev.in")
    for name, version in direct.items():
        assert locked.get(name) == version, (
            f"{name}: .in pins {version}, lock has {locked.get(name)}"
        )


def test_the_distributed_extras_are_locked_apart_from_lab_and_test():
    # make lab / make test install requirements.txt + requirements-dev.txt only
    locked = _pins(ROOT / "requirements-distributed.txt")
    direct = re.findall(
        r"^([\w\-]+)(?:\[[\w,]+\])?==(\S+)",
        (ROOT / "requirements-distributed.in").read_text(),
        re.M,
    )
    assert direct and all(locked.get(_canonical(n)) == v for n, v in direct), (direct, locked)
    assert not set(locked) & (
        set(_pins(ROOT / "requirements.txt")) | set(_pins(ROOT / "requirements-dev.txt"))
    )
    assert "psycopg" not in (ROOT / "environment.yml").read_text()


def test_lock_files_do_not_overlap():
    runtime, dev = _pins(ROOT / "requirements.txt"), _pins(ROOT / "requirements-dev.txt")
    assert not set(runtime) & set(dev)


def test_environment_yml_installs_the_same_pins():
    text = (ROOT / "environment.yml").read_text()
    direct = _pins(ROOT / "requirements.in") | _pins(ROOT / "requirements-dev.in")
    assert _pins(ROOT / "environment.yml") == direct
    assert "- -r requirements.txt" in text and "- -r requirements-dev.txt" in text


def _makefile_accepts(version: tuple) -> bool:
    """Run the Makefile's own interpreter check as if Python ``version`` ran it."""
    check = re.search(r"-c '(import sys; sys\.exit\(.*?\))'", (ROOT / "Makefile").read_text(), re.S)
    code = check[1].replace("\\\n", "")
    fake = types.SimpleNamespace(
        version_info=version, version=".".join(map(str, version)), exit=sys.exit
    )
    try:
        exec(code.replace("import sys; ", ""), {"sys": fake})
    except SystemExit as done:
        return done.code in (0, None)
    return True


def test_python_versions_agree_everywhere():
    supported = {f"3.{minor}" for minor in range(8, 16) if _makefile_accepts((3, minor, 0))}
    assert supported == set(check_lock.PYTHONS)
    requires = SpecifierSet(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
                            ["requires-python"])  # fmt: skip
    assert {f"3.{minor}" for minor in range(8, 16) if f"3.{minor}.0" in requires} == supported
    assert f"- python={min(supported)}" in (ROOT / "environment.yml").read_text()
    first, *middle, last = sorted(supported)
    readme = f"Python {', '.join([first, *middle])} or {last}"
    assert readme in (ROOT / "README.md").read_text()


def test_the_readme_names_every_platform_the_lock_is_checked_for():
    readme = (ROOT / "README.md").read_text()
    for label in check_lock.PLATFORMS.values():
        assert label in readme, label


def test_every_lock_is_universal_and_made_by_make_lock():
    for name in ("requirements.txt", "requirements-dev.txt", "requirements-distributed.txt"):
        assert "#    make lock" in (ROOT / name).read_text(), f"{name}: not written by make lock"
    runtime = (ROOT / "requirements.txt").read_text()
    # each TensorFlow build with the marker that picks it, and packages of other platforms
    assert re.search(r"^tensorflow-cpu==2\.21\.0 ; .*platform_machine == 'x86_64'", runtime, re.M)
    assert re.search(r"^tensorflow==2\.21\.0 ; ", runtime, re.M)
    assert re.search(r"^appnope==\S+ ; sys_platform == 'darwin'", runtime, re.M)
    assert re.search(r"^pywinpty==\S+ ; os_name == 'nt'", runtime, re.M)


def test_check_lock_names_the_package_without_a_wheel():
    stderr = (
        "error: No solution found when resolving dependencies\n  cause: Because h5py==3.14.0 has"
        " no usable wheels and you require h5py==3.14.0, we can conclude that ...\n"
    )
    assert check_lock.describe_failure(stderr) == "no wheel for h5py==3.14.0"
    assert check_lock.describe_failure("error: network down\n") == "error: network down"
    with pytest.raises(ValueError, match="platform must be one of"):
        check_lock.check("x86_64-apple-darwin", "3.11")


STUBS = {
    # each records its call in calls.log, with the variables CI sets
    "make": 'echo "make $* | browser=${DNN_WEEK3_REQUIRE_BROWSER:-}'
    ' sandbox=${DNN_WEEK3_REQUIRE_SANDBOX:-}" >> "$LOG"',
    "apt-get": 'echo "apt-get $*" >> "$LOG"',
    "id": '[ "$#" -eq 1 ] && echo 0 || echo "id $*" >> "$LOG"',
    "useradd": 'echo "useradd $*" >> "$LOG"',
    "chmod": ":",
    "runuser": 'echo "runuser $*" >> "$LOG"',
}  # fmt: skip


def run_ci(tmp_path, installed=()):
    """Run .ci/run in a copy of the repository with stand-ins for make, apt-get and the user
    tools; ``installed`` are the commands already on the machine. Returns the calls made."""
    (tmp_path / ".ci").mkdir()
    shutil.copy(ROOT / ".ci" / "run", tmp_path / ".ci" / "run")
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    (tmp_path / ".venv" / "bin" / "python").symlink_to(sys.executable)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("dirname", "readlink", "env", "bash"):
        (bin_dir / tool).symlink_to(shutil.which(tool))
    for name, body in STUBS.items() | {c: ":" for c in installed}.items():
        (bin_dir / name).write_text(f"#!{shutil.which('bash')}\n{body}\n")
        (bin_dir / name).chmod(0o755)
    log = tmp_path / "calls.log"
    env = {"PATH": str(bin_dir), "LOG": str(log), "HOME": str(tmp_path)}
    subprocess.run([shutil.which("bash"), str(tmp_path / ".ci" / "run")], env=env, check=True,
                   capture_output=True)  # fmt: skip
    return log.read_text().splitlines()


def test_ci_installs_what_is_missing_checks_the_lock_then_tests_and_attacks_the_grader(tmp_path):
    calls = run_ci(tmp_path)
    installs = [c for c in calls if c.startswith("apt-get install")]
    assert len(installs) == 1 and set(installs[0].split()) >= {"chromium", "bubblewrap", "npm"}
    makes = [c for c in calls if c.startswith("make")]
    assert makes == [
        "make check-lock | browser=1 sandbox=",
        "make test | browser=1 sandbox=",
        "make test-grader-security | browser=1 sandbox=1",
    ]
    # and the attacks again as an ordinary user, bubblewrap in a user namespace
    (ordinary,) = [c for c in calls if c.startswith("runuser")]
    assert "DNN_WEEK3_REQUIRE_SANDBOX=1" in ordinary and "tests/test_grade_security.py" in ordinary
    assert calls.index(makes[-1]) < calls.index(ordinary)


def test_ci_installs_nothing_that_is_there(tmp_path):
    calls = run_ci(tmp_path, installed=("chromium", "bwrap", "npm"))
    assert not [c for c in calls if c.startswith("apt-get")]
