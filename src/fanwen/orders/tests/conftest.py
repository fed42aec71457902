from fanwen.orders.tests.fixtures import *  # noqa: F403  (shared with accounts' tests)
