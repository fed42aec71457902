from fanwen.orders.tests.fixtures import *  # noqa: F403  (named buyers, plans, articles)
from fanwen.payments.tests.alipay_fakes import (  # noqa: F401  (fixtures)
    alipay_backend,
    alipay_gateway,
    alipay_keys,
)
from fanwen.payments.tests.fixtures import *  # noqa: F403
