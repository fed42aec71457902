"""Mounted at /pay/."""

from django.urls import path

from fanwen.payments import api, oauth, views

app_name = "payments"

urlpatterns = [
    # The backend named by PAYMENT_WECHAT_BACKEND (the merchant; the sandbox while it is on).
    path("notify/wechat/", views.wechat_notify, name="wechat-notify"),
    # Any other WeChat-protocol alias, when more than one runs at once.
    path("notify/wechat/<slug:alias>/", views.wechat_notify, name="wechat-notify-alias"),
    path("notify/alipay/", views.alipay_notify, name="alipay-notify"),
    path("notify/alipay/<slug:alias>/", views.alipay_notify, name="alipay-notify-alias"),
    # JSAPI inside WeChat: the payer's openid by OAuth snsapi_base.
    path("wechat/oauth/", oauth.wechat_oauth_start, name="wechat-oauth"),
    path("wechat/oauth/callback/", oauth.wechat_oauth_callback, name="wechat-oauth-callback"),
    # The buyer's side: create, poll, and 已付款请点这里.
    path("orders/", api.create_order, name="create-order"),
    path("orders/<str:out_trade_no>/", api.order_status, name="order-status"),
    path("orders/<str:out_trade_no>/check/", api.check_order, name="check-order"),
]
