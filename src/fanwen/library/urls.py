from django.urls import path

from fanwen.library import views

app_name = "library"

urlpatterns = [
    path("", views.home, name="home"),
    path("c/<slug:slug>/", views.category, name="category"),
    path("a/<int:article_id>.html", views.article, name="article"),
]
