"""The pip route (`make`) and the conda route (environment.yml) install the same pinned set."""

import re
import tomllib
from pathlib import Path

import check_lock
import pytest

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


def test_python_versions_agree_everywhere():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == ">=3.11,<3.14"
    assert check_lock.PYTHONS == ("3.11", "3.12", "3.13")
    assert "(3, 11) <= sys.version_info[:2] <= (3, 13)" in (ROOT / "Makefile").read_text()
    assert "- python=3.11" in (ROOT / "environment.yml").read_text()
    assert "Python 3.11, 3.12 or 3.13" in (ROOT / "README.md").read_text()


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


def test_ci_installs_a_browser_and_a_sandbox_checks_the_lock_then_runs_the_tests():
    text = (ROOT / ".ci" / "run").read_text()
    commands = [
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    ]
    steps = [
        "make check-lock",
        "make test",
        "$sudo env DNN_WEEK3_REQUIRE_SANDBOX=1 make test-grader-security",
    ]
    assert [c for c in commands if c in steps] == steps
    # and the attacks again as an ordinary user, through user namespaces
    assert commands.index(steps[-1]) < next(
        i for i, c in enumerate(commands) if c.startswith("$sudo runuser -u dnn-week3-ci")
    )
    assert "missing+=(chromium)" in text and "missing+=(bubblewrap)" in text
    assert 'apt-get install -y -qq "${missing[@]}"' in text
    assert "export DNN_WEEK3_REQUIRE_BROWSER=1" in commands
