from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "fanwen.orders"
    verbose_name = "订单与权益"
