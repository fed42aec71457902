from fanwen.library.tests.factories import *  # noqa: F403  (categories and articles)
