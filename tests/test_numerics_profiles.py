"""The numerics profiles (tests/numerics_profiles.txt) that nbval replays under are well formed.

A misspelt variable or value would silently change nothing, and the replay would pass for the
wrong reason, so each variable is one the libraries read and each value one they accept.
"""

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROFILES_FILE = ROOT / "tests" / "numerics_profiles.txt"

# what each library accepts (oneDNN's CPU ISA names; OpenBLAS's x86-64 core names; NumPy's
# dispatch groups above its X86_V2 baseline); thread counts are positive integers
ACCEPTED = {
    "ONEDNN_MAX_CPU_ISA": {"SSE41", "AVX", "AVX2", "AVX2_VNNI", "AVX512_CORE", "ALL"},
    "OPENBLAS_CORETYPE": {"Prescott", "Core2", "Nehalem", "Sandybridge", "Haswell", "Zen"},
    "NPY_DISABLE_CPU_FEATURES": {"X86_V3", "X86_V4"},
}
THREADS = {"OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS",
           "TF_NUM_INTEROP_THREADS"}  # fmt: skip


def read_profiles(path=PROFILES_FILE) -> dict:
    """Return ``{name: {VAR: value}}`` in file order."""
    profiles = {}
    for line in path.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, *pairs = line.split()
        assert name not in profiles, f"profile {name!r} defined twice"
        assert all("=" in p for p in pairs), f"{name}: expected VAR=value pairs, got {pairs}"
        profiles[name] = dict(p.split("=", 1) for p in pairs)
    return profiles


PROFILES = read_profiles()


def test_default_comes_first_and_changes_nothing():
    assert next(iter(PROFILES)) == "default" and PROFILES["default"] == {}


def test_the_profiles_of_issue_19_are_there():
    assert PROFILES["laptop-avx2"] == {
        "ONEDNN_MAX_CPU_ISA": "AVX2",
        "OPENBLAS_CORETYPE": "Sandybridge",
    }
    assert set(PROFILES["eight-cores"]) == THREADS
    assert set(PROFILES["eight-cores"].values()) == {"8"}


@pytest.mark.parametrize("name", PROFILES)
def test_every_variable_and_value_is_one_the_libraries_accept(name):
    for var, value in PROFILES[name].items():
        if var in THREADS:
            assert value.isdigit() and int(value) > 0, f"{name}: {var}={value}"
        else:
            assert value in ACCEPTED.get(var, ()), f"{name}: {var}={value} is not known here"


def test_make_test_replays_as_this_machine_and_under_two_profiles_at_once():
    # what `make test` would run, read from make itself rather than from the Makefile's wording
    plan = subprocess.run(
        ["make", "-n", "--no-print-directory", "-C", str(ROOT), "nbval-replays"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    profiles = re.findall(r"nbval-profile PROFILE=(\S+)", plan)
    assert len(profiles) >= 2 and set(profiles) <= set(PROFILES) - {"default"}, plan
    assert re.search(r"^\S*python -m pytest --nbval .* notebooks$", plan, re.M), plan  # default
    parallel = re.search(r"-j(\d+)", plan)
    assert parallel and int(parallel[1]) == len(profiles) + 1, plan
    test_plan = subprocess.run(
        ["make", "-n", "--no-print-directory", "-C", str(ROOT), "test"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "nbval-profile-" in test_plan and "tests/test_browser.py" in test_plan
