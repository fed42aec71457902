from django.urls import path

from fanwen.pages import views

app_name = "pages"
urlpatterns = [
    path("info/<slug:slug>/", views.show, name="show"),
]
