"""A web process loads the learned tag suggester when it starts (config/asgi.py), so the first
conversation an agent opens does not wait for scikit-learn's import (about 1.5 s, measured as
the one slow open in every workspace benchmark run before this)."""

import pytest

from config import asgi
from tagging import learning


@pytest.fixture
def forgotten():
    if asgi.WARMING is not None:  # the import's own warm-up: let it finish, then forget it
        asgi.WARMING.join(timeout=60)
    learning.forget_loaded_suggester()
    yield
    learning.forget_loaded_suggester()


def test_the_web_process_loads_the_suggester_as_it_starts(forgotten, settings):
    settings.TAG_SUGGESTER_ENABLED = True
    assert learning._loaded["checked"] == float("-inf")  # nothing loaded yet
    thread = asgi.warm_up()
    assert thread is not None
    thread.join(timeout=60)
    assert learning._loaded["checked"] != float("-inf")  # looked at the storage, ready


def test_nothing_is_loaded_when_suggestions_are_off(forgotten, settings):
    settings.TAG_SUGGESTER_ENABLED = False
    assert asgi.warm_up() is None
    assert learning._loaded["checked"] == float("-inf")
