from fanwen.library.tests.factories import *  # noqa: F403  (the library's shared fixtures)
