#!/usr/bin/env bash
# Gradescope runs this once, when it builds the autograder's image (as root, Ubuntu): the
# course in /autograder/source with its pinned Python packages, and bubblewrap for the sandbox.
set -euo pipefail
cd /autograder/source
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq software-properties-common make bubblewrap
if ! command -v python3.11 >/dev/null; then
    add-apt-repository -y ppa:deadsnakes/ppa
    apt-get update -qq
fi
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3.11 python3.11-venv
make .venv/.installed PYTHON=python3.11
