from fanwen.library.tests.factories import *  # noqa: F403  (articles for the fast path and backups)
