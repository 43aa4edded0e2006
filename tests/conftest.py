"""Fixtures shared by the tests."""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True, scope="session")
def _grader_cache(tmp_path_factory):
    """The grader's self-test remembers its passes here, for this test session only."""
    mp = pytest.MonkeyPatch()
    mp.setenv("DNN_WEEK3_GRADER_CACHE", str(tmp_path_factory.mktemp("grader-cache")))
    yield
    mp.undo()


@pytest.fixture
def needs_sandbox():
    """Skip (or fail, with DNN_WEEK3_REQUIRE_SANDBOX) where runs cannot be sealed."""
    import os

    from grading_support import HAVE_SANDBOX

    if HAVE_SANDBOX:
        return
    message = "needs bubblewrap, and root or unprivileged user namespaces"
    if os.environ.get("DNN_WEEK3_REQUIRE_SANDBOX"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def web_assets():
    """Skip (or fail, with DNN_WEEK3_REQUIRE_BROWSER as in CI) without the pages' npm packages."""
    from helpers.course.web_assets import DEFAULT_NODE_MODULES

    if (ROOT / DEFAULT_NODE_MODULES).is_dir():
        return
    message = "needs the pages' and slides' npm packages: make web-assets (needs npm)"
    if os.environ.get("DNN_WEEK3_REQUIRE_BROWSER"):
        pytest.fail(message)
    pytest.skip(message)
