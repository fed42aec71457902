from django.urls import path

from fanwen.staff import views

app_name = "staff"

# Every view here is wrapped in fanwen.staff.access.staff_required (tests/test_access.py walks
# this list, so a page added without it fails).
urlpatterns = [
    path("", views.index, name="index"),
]
