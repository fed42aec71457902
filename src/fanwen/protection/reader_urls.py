"""The paywall's reader endpoints, mounted at the root (they live beside /a/<id>.html)."""

from django.urls import path

from fanwen.protection import views

app_name = "paywall"

urlpatterns = [
    path("a/<int:article_id>/text/", views.clean_text, name="clean-text"),
    path("a/<int:article_id>/download", views.download, name="download"),
    path("dl/<str:token>.docx", views.docx, name="docx"),
    path("qr.svg", views.qr_svg, name="qr"),
]
