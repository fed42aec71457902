from django.urls import path

from fanwen.checks import views

app_name = "checks"

urlpatterns = [
    path("check/", views.check_page, name="check"),
    path("check/r/<str:token>/", views.report_page, name="report"),
    path("check/r/<str:token>/delete/", views.delete_report, name="delete"),
]
