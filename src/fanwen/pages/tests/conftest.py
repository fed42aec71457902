import pytest

from fanwen.library.tests.factories import *  # noqa: F403  (the library's shared fixtures)
from fanwen.pages.tests.fixtures import *  # noqa: F403  (site_pages)


@pytest.fixture(autouse=True)
def _trust_pages(site_pages) -> None:
    pass
