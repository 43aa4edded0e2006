"""`make check-lock`: ask the package index whether every lock installs on every supported machine.

For each platform and Python version below, uv resolves the locked pins (their environment
markers evaluated for that machine) with wheels only, as an installer on that machine would.
Nothing is installed or downloaded beyond the index's metadata. Exit status 1, naming the
platform, the Python version and the package uv found without a wheel, when any fails.

Run from the repository root: `.venv/bin/python tests/check_lock.py [--python 3.12] ...`.
"""

import argparse
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Where TensorFlow 2.21 ships wheels (Intel macOS has none; Python 3.14 has none yet).
# uv's platform names; the label is what the README calls each.
PLATFORMS = {
    "x86_64-manylinux_2_28": "Linux x86-64",
    "aarch64-manylinux_2_28": "Linux aarch64",
    "aarch64-apple-darwin": "macOS arm64 (Apple silicon)",
    "x86_64-pc-windows-msvc": "Windows x86-64",
}
PYTHONS = ("3.11", "3.12", "3.13")
LOCKS = ("requirements.txt", "requirements-dev.txt", "requirements-distributed.txt")

_UNUSABLE = re.compile(r"Because (\S+?)==(\S+) has no (?:usable )?wheels", re.IGNORECASE)


def check(platform: str, python: str, uv: str = "uv") -> tuple:
    """Return ``(ok, message)`` for one platform and Python version.

    ``message`` names the package without a wheel when uv says which one; otherwise it is uv's
    own error, shortened.
    """
    if platform not in PLATFORMS:
        raise ValueError(f"platform must be one of {sorted(PLATFORMS)}, got {platform!r}")
    command = [
        uv, "pip", "compile", "--quiet", "--no-header", "--no-annotate", "--no-deps",
        "--only-binary", ":all:", "--python-platform", platform, "--python-version", python,
        *(str(ROOT / lock) for lock in LOCKS),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode == 0:
        pins = sum(1 for line in result.stdout.splitlines() if "==" in line)
        return True, f"{pins} pins, all with wheels"
    return False, describe_failure(result.stderr)


def describe_failure(stderr: str) -> str:
    """Return one line naming the package that has no wheel, from uv's error text."""
    match = _UNUSABLE.search(stderr)
    if match:
        return f"no wheel for {match[1]}=={match[2]}"
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return " / ".join(lines[:3]) or "uv failed without a message"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--platform", action="append", choices=sorted(PLATFORMS))
    parser.add_argument("--python", action="append")
    parser.add_argument("--uv", default=str(Path(sys.executable).with_name("uv")))
    args = parser.parse_args(argv)
    targets = [(p, v) for p in args.platform or PLATFORMS for v in args.python or PYTHONS]
    # Each call waits on the index, not the CPU.
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda target: check(*target, uv=args.uv), targets))
    failures = 0
    for (platform, python), (ok, message) in zip(targets, results, strict=True):
        failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {PLATFORMS[platform]:<28} Python {python}: {message}")
    print(
        f"{len(targets) - failures} of {len(targets)} platform/Python pairs install from the locks"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
