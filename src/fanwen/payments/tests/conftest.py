from fanwen.orders.tests.fixtures import *  # noqa: F403  (named buyers, plans, articles)
from fanwen.payments.tests.fixtures import *  # noqa: F403
