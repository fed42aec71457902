from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from fanwen.pages.models import SitePage


def show(request: HttpRequest, slug: str) -> HttpResponse:
    page = get_object_or_404(SitePage, slug=slug)
    return render(request, "pages/page.html", {"page": page})
