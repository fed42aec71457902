"""Who may open a /staff/ page: staff only; the anonymous are sent to log in, others refused."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache


def staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """302 to the admin login for the anonymous, 403 for a logged-in reader; never cached."""

    @wraps(view)
    def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        if not (user.is_active and user.is_staff):
            raise PermissionDenied("只有工作人员可以打开工作台")
        return view(request, *args, **kwargs)

    return never_cache(guarded)
