from django.contrib import admin
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse

from fanwen.support.models import ContactInfo, Ticket, TicketReply


@admin.register(ContactInfo)
class ContactInfoAdmin(admin.ModelAdmin):
    """One set of contact details: the list page opens it directly."""

    def changelist_view(self, request: HttpRequest, extra_context=None):
        info = ContactInfo.current()
        return HttpResponseRedirect(reverse("admin:support_contactinfo_change", args=[info.pk]))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class TicketReplyInline(admin.TabularInline):
    model = TicketReply
    extra = 0
    readonly_fields = ["staff", "body", "created_at", "emailed_to", "emailed_at", "email_error"]
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        # Replies go out from the desk's inbox, which mails them and logs who sent them.
        return False


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "order_number", "contact", "status", "created_at"]
    list_filter = ["status", "kind"]
    search_fields = ["=order_number", "contact", "message"]
    readonly_fields = [f.name for f in Ticket._meta.fields]
    inlines = [TicketReplyInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
