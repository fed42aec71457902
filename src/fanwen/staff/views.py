"""The desk's front page: where each staff tool lives."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from fanwen.staff.access import staff_required


@staff_required
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "staff/index.html")
