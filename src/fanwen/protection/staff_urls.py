from django.urls import path

from fanwen.protection.staff_views import mark_lookup

app_name = "protection_staff"

urlpatterns = [
    path("mark/", mark_lookup, name="mark_lookup"),
]
