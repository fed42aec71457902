"""Staff see what waits to be pushed, what failed and why, and each engine's quota."""

from django.contrib import admin

from fanwen.seo.models import EngineState, UrlPush


@admin.register(UrlPush)
class UrlPushAdmin(admin.ModelAdmin):
    list_display = ["url", "engine", "attempts", "last_error", "next_attempt_at", "requested_at"]
    list_filter = ["engine"]
    search_fields = ["url"]
    readonly_fields = ["engine", "url", "article_id", "requested_at", "last_attempt_at"]
    actions = ["retry_now"]

    @admin.action(description="立即重试")
    def retry_now(self, request, queryset) -> None:
        from django.utils import timezone

        queryset.update(next_attempt_at=timezone.now())


@admin.register(EngineState)
class EngineStateAdmin(admin.ModelAdmin):
    list_display = ["engine", "paused_until", "remain", "remain_day", "pushed_total", "last_error"]
    readonly_fields = ["engine", "remain", "remain_day", "pushed_total", "updated_at"]
