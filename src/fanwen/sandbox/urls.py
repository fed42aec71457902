"""Mounted at /sandbox/: the emulated WeChat Pay v3 API, the emulated Alipay gateway, their payer
pages, and the emulated search-engine push endpoints."""

from django.urls import path

from fanwen.sandbox import alipay, emulator, oauth, seo, views

app_name = "sandbox"

urlpatterns = [
    *(
        path(
            f"wechat/v3/pay/transactions/{kind}",
            emulator.create_transaction,
            {"kind": kind},
            name=f"create-{kind}",
        )
        for kind in ("native", "h5", "jsapi")
    ),
    path(
        "wechat/v3/pay/transactions/out-trade-no/<str:out_trade_no>",
        emulator.query_by_out_trade_no,
        name="query-transaction",
    ),
    path(
        "wechat/v3/pay/transactions/out-trade-no/<str:out_trade_no>/close",
        emulator.close_transaction,
        name="close-transaction",
    ),
    path(
        "wechat/v3/pay/transactions/id/<str:transaction_id>",
        emulator.query_by_transaction_id,
        name="query-transaction-id",
    ),
    path("wechat/v3/refund/domestic/refunds", emulator.create_refund, name="create-refund"),
    path(
        "wechat/v3/refund/domestic/refunds/<str:out_refund_no>",
        emulator.query_refund,
        name="query-refund",
    ),
    path("wechat/v3/bill/tradebill", emulator.trade_bill, name="trade-bill"),
    path("wechat/v3/billdownload/file", emulator.download_bill, name="bill-download"),
    # WeChat web OAuth, at the paths of open.weixin.qq.com and api.weixin.qq.com.
    path("wechat/connect/oauth2/authorize", oauth.authorize, name="oauth-authorize"),
    path("wechat/sns/oauth2/access_token", oauth.access_token, name="oauth-token"),
    path("pay/<str:token>/", views.pay, name="pay"),
    path("pay/<str:token>/confirm/", views.confirm, name="confirm"),
    path("pay/<str:token>/cancel/", views.cancel, name="cancel"),
    path("jsapi/<str:prepay_id>/", views.pay_by_prepay_id, name="pay-prepay"),
    path("alipay/gateway.do", alipay.gateway, name="alipay-gateway"),
    path("alipay/pay/<str:token>/", alipay.pay, name="alipay-pay"),
    path("alipay/pay/<str:token>/confirm/", alipay.confirm, name="alipay-confirm"),
    path("alipay/pay/<str:token>/cancel/", alipay.cancel, name="alipay-cancel"),
    # Search-engine pushes, at the paths of data.zz.baidu.com and api.indexnow.org.
    path("seo/baidu/urls", seo.baidu_urls, name="seo-baidu"),
    path("seo/indexnow", seo.indexnow, name="seo-indexnow"),
    path("seo/pushes.json", seo.pushes, name="seo-pushes"),
]
