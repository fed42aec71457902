"""Upload on the desk: /staff/import/ takes files, a batch page shows progress and results."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render

from fanwen.staff.access import staff_required
from fanwen.staff.forms import ImportForm
from fanwen.staff.importing import create_batch, run_batch_in_thread
from fanwen.staff.models import ImportBatch

RECENT = 20


def _limits() -> dict[str, str]:
    def mb(n: int) -> str:
        return f"{n / 1073741824:g} GB" if n >= 1073741824 else f"{n / 1048576:g} MB"

    return {
        "file": mb(settings.FANWEN_UPLOAD_MAX_FILE_BYTES),
        "request": mb(settings.FANWEN_UPLOAD_MAX_REQUEST_BYTES),
        "members": f"{settings.FANWEN_UPLOAD_MAX_ZIP_MEMBERS:,}",
        "unzipped": mb(settings.FANWEN_UPLOAD_MAX_UNZIPPED_BYTES),
    }


def _recent() -> list[ImportBatch]:
    return list(ImportBatch.objects.select_related("created_by", "category")[:RECENT])


def _too_large(request: HttpRequest) -> bool:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return length > settings.FANWEN_UPLOAD_MAX_REQUEST_BYTES


@staff_required
def import_page(request: HttpRequest) -> HttpResponse:
    context = {"desk_section": "import", "recent": _recent(), "limits": _limits()}
    if request.method == "POST":
        # Refused before the body is read: request.FILES would spool it all to disk first.
        if _too_large(request):
            limit = settings.FANWEN_UPLOAD_MAX_REQUEST_BYTES / 1048576
            context["form"] = ImportForm()
            context["request_error"] = f"一次上传的文件合计不能超过 {limit:g} MB，请分几次上传"
            return render(request, "staff/import.html", context, status=413)
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            files = [
                # Large uploads were spooled to a temporary file: read there, not into memory twice.
                (f.name, Path(f.temporary_file_path()))
                if hasattr(f, "temporary_file_path")
                else (f.name, f.read())
                for f in data["files"]
            ]
            batch = create_batch(
                files,
                user=request.user,
                category=data["category"],
                category_from_folder=data["category"] is None,
                publish_mode=data["publish_mode"],
                publish_at=data["publish_at"],
            )
            if settings.FANWEN_IMPORT_IN_THREAD and batch.status != ImportBatch.Status.DONE:
                # No worker needed for the desk to work; the worker's claims make both safe.
                transaction.on_commit(lambda: run_batch_in_thread(batch.pk))
            return redirect("staff:import_batch", batch_id=batch.pk)
        context["form"] = form
        return render(request, "staff/import.html", context, status=400)
    context["form"] = ImportForm()
    return render(request, "staff/import.html", context)


def _status(batch: ImportBatch) -> dict:
    return {
        "id": batch.pk,
        "status": batch.status,
        "status_label": batch.get_status_display(),
        "total": batch.total,
        "done": batch.done,
        "ok": batch.ok,
        "refused": batch.refused,
        "errors": batch.errors,
        "finished": batch.status == ImportBatch.Status.DONE,
    }


@staff_required
def import_batch(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = get_object_or_404(
        ImportBatch.objects.select_related("created_by", "category"), pk=batch_id
    )
    items = list(batch.items.select_related("article").order_by("position"))
    context = {
        "desk_section": "import",
        "batch": batch,
        "items": items,
        "duplicates": sum(1 for item in items if item.result.get("duplicates")),
    }
    return render(request, "staff/import_batch.html", context)


@staff_required
def import_status(request: HttpRequest, batch_id: int) -> JsonResponse:
    batch = get_object_or_404(ImportBatch, pk=batch_id)
    return JsonResponse(_status(batch))
