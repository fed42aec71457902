"""The reading pages' counters, mounted at the root beside /a/<id>.html."""

from django.urls import path

from fanwen.stats import views

app_name = "stats"

urlpatterns = [
    path("a/<int:article_id>/opened", views.paywall_opened, name="paywall-opened"),
]
