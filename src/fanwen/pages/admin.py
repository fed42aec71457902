from django.contrib import admin

from fanwen.pages.models import SitePage


@admin.register(SitePage)
class SitePageAdmin(admin.ModelAdmin):
    list_display = ["title", "slug", "updated_at"]
    search_fields = ["title", "body"]

    def get_readonly_fields(self, request, obj=None) -> list[str]:
        # The footer and the paywall link by slug: an existing page keeps its address.
        return ["slug"] if obj is not None else []
