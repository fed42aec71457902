from fanwen.library.tests.factories import *  # noqa: F403  (the same data as the app's tests)
