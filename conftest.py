"""Settings every test starts from (the tests that need otherwise change them back)."""

import pytest


@pytest.fixture(autouse=True)
def reading_defaults(settings, tmp_path_factory):
    # Tests read pages many times from one IP; the page limit tests turn the limits on.
    settings.FANWEN_PAGE_RATE_LIMIT = 0
    settings.FANWEN_PAGE_IP_RATE_LIMIT = 0
    # Building a protection font takes seconds: only the tests about fonts and the paywall
    # ask for the font level (and get a directory of their own).
    settings.FANWEN_PROTECTION = "js"
    settings.FANWEN_FONT_DIR = str(tmp_path_factory.getbasetemp() / "fonts")
    # State files (the page-cache stamp, sandbox keys) of this run only: a run beside another
    # (or beside `make run`) must not see that one's edits.
    settings.VAR_DIR = tmp_path_factory.getbasetemp() / "var"
