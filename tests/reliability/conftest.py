# The browser tests here drive the same Chromium and live server as tests/ui/test_browser.py.
from tests.ui.test_browser import chromium, page, server, support  # noqa: F401
