from django.urls import path

from fanwen.staff import views, views_articles

app_name = "staff"

# Every view here is wrapped in fanwen.staff.access.staff_required (tests/test_access.py walks
# this list, so a page added without it fails).
urlpatterns = [
    path("", views.index, name="index"),
    path("articles/", views_articles.articles, name="articles"),
    path("articles/<int:article_id>/", views_articles.article, name="article"),
    path(
        "articles/<int:article_id>/pieces/<int:position>/",
        views_articles.piece_edit,
        name="piece_edit",
    ),
]
