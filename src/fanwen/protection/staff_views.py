"""Staff tools for the buyer mark: paste leaked text or upload a DOCX, get the order back."""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from fanwen.exports.docx import docx_mark
from fanwen.lib.money import fen_to_yuan
from fanwen.orders.models import Order
from fanwen.protection.mark import find_marks
from fanwen.staff.access import staff_required

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_TEXT_CHARS = 500_000


class MarkLookupForm(forms.Form):
    # strip=False: the marks may sit at the very start or end of what was pasted.
    text = forms.CharField(
        label="粘贴的文字",
        required=False,
        strip=False,
        max_length=MAX_TEXT_CHARS,
        widget=forms.Textarea(attrs={"rows": 10, "placeholder": "把发现的文字原样粘贴到这里"}),
    )
    document = forms.FileField(
        label="或上传 Word 文件（.docx）",
        required=False,
        help_text=f"最大 {MAX_UPLOAD_BYTES // (1024 * 1024)} MB",
    )

    def clean_document(self):
        upload = self.cleaned_data.get("document")
        if upload and upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError(
                f"文件太大（{upload.size / (1024 * 1024):.1f} MB），最大 {MAX_UPLOAD_BYTES // (1024 * 1024)} MB"
            )
        return upload

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("text", "").strip() and not cleaned.get("document"):
            if not self.errors:
                raise ValidationError("请粘贴文字，或上传一个 DOCX 文件")
        return cleaned


@dataclass
class Found:
    order_id: int
    marks_in_text: int = 0
    in_document: bool = False
    order: Order | None = None
    admin_url: str = ""

    @property
    def yuan(self) -> str:
        return fen_to_yuan(self.order.amount_fen) if self.order else ""


def _found_orders(text: str, document_ids: list[int]) -> list[Found]:
    found: dict[int, Found] = {}
    for order_id, count in find_marks(text):
        found[order_id] = Found(order_id, marks_in_text=count)
    for order_id in document_ids:
        found.setdefault(order_id, Found(order_id)).in_document = True
    orders = Order.objects.select_related("plan", "article", "visitor").in_bulk(list(found))
    for item in found.values():
        item.order = orders.get(item.order_id)
        if item.order is not None:
            item.admin_url = reverse("admin:orders_order_change", args=[item.order_id])
    return sorted(found.values(), key=lambda item: (-item.marks_in_text, item.order_id))


@staff_required
def mark_lookup(request: HttpRequest) -> HttpResponse:
    form = MarkLookupForm()
    results: list[Found] | None = None
    if request.method == "POST":
        form = MarkLookupForm(request.POST, request.FILES)
        if form.is_valid():
            document_ids: list[int] = []
            upload = form.cleaned_data.get("document")
            if upload:
                try:
                    document_ids = docx_mark(upload.read())
                except ValueError as exc:
                    form.add_error("document", str(exc))
            if form.is_valid():
                results = _found_orders(form.cleaned_data.get("text", ""), document_ids)
    return render(request, "protection/mark_lookup.html", {"form": form, "results": results})
