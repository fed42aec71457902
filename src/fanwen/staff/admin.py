from django.contrib import admin

from fanwen.staff.models import ImportBatch, ImportItem


class ReadOnly(admin.ModelAdmin):
    # Batches are written by fanwen.staff.importing only; the admin is for looking.
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class ImportItemInline(admin.TabularInline):
    model = ImportItem
    fields = ["position", "name", "size", "status", "reason", "article"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ImportBatch)
class ImportBatchAdmin(ReadOnly):
    list_display = ["id", "created_at", "created_by", "status", "total", "done", "ok", "refused"]
    list_filter = ["status", "publish_mode"]
    inlines = [ImportItemInline]


@admin.register(ImportItem)
class ImportItemAdmin(ReadOnly):
    list_display = ["id", "batch", "position", "name", "status", "reason", "article"]
    list_filter = ["status"]
    search_fields = ["name", "reason"]
    raw_id_fields = ["batch", "article"]
