"""Mounted at /pay/."""

from django.urls import path

from fanwen.payments import views

app_name = "payments"

urlpatterns = [
    # The backend named by PAYMENT_WECHAT_BACKEND (the merchant, or the sandbox by default).
    path("notify/wechat/", views.wechat_notify, name="wechat-notify"),
    # Any other WeChat-protocol alias, when more than one runs at once.
    path("notify/wechat/<slug:alias>/", views.wechat_notify, name="wechat-notify-alias"),
]
