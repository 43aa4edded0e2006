"""Fixtures shared by the tests."""

import pytest


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
