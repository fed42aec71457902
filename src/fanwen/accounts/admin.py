from django.contrib import admin

from fanwen.accounts.models import Visitor


@admin.register(Visitor)
class VisitorAdmin(admin.ModelAdmin):
    list_display = ["id", "user", "created_at"]
    search_fields = ["id", "user__username", "user__email"]
    readonly_fields = ["id", "user", "created_at"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        # Visitors are made by the cookie helper only.
        return False
