from django.urls import path

from fanwen.staff import views, views_import

app_name = "staff"

# Every view here is wrapped in fanwen.staff.access.staff_required (tests/test_access.py walks
# this list, so a page added without it fails).
urlpatterns = [
    path("", views.index, name="index"),
    path("import/", views_import.import_page, name="import"),
    path("import/<int:batch_id>/", views_import.import_batch, name="import_batch"),
    path("import/<int:batch_id>/status.json", views_import.import_status, name="import_status"),
]
