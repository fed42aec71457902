from django.urls import path

from fanwen.support import views

app_name = "support"
urlpatterns = [
    path("contact/", views.contact, name="contact"),
    path("contact/wechat-qr", views.wechat_qr, name="wechat_qr"),
]
