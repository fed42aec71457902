from fanwen.payments.tests.conftest import *  # noqa: F403  (the payments fixtures: keys, backends, buyers)
