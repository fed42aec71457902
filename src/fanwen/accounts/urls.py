"""Mounted at /account/."""

from django.urls import path

from fanwen.accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("signup/", views.signup, name="signup"),
    path("purchases/", views.purchases, name="purchases"),
]
