"""原创度检测: /check/ (the form; after a check, the result under it) and /check/r/<token>/
(a report kept at the buyer's request). The draft is never logged and never stored unless
the buyer ticks 保存报告; an upload stays in memory (drafts.MemoryOnlyUpload)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from fanwen.accounts.visitors import current_visitor, is_staff, signed_visitor_id
from fanwen.checks import matching
from fanwen.checks.actions import do_keep_report
from fanwen.checks.drafts import MAX_CHARS, DraftRejected, MemoryOnlyUpload, clean, read_upload
from fanwen.checks.models import KeptReport
from fanwen.lib import ratelimit
from fanwen.orders.models import Entitlement

RATE_SCOPE = "check"
DAY = 86400


def _user(request: HttpRequest) -> Any:
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def _unlimited(request: HttpRequest) -> bool:
    """Staff, and a browser or account with a 30-day pass running, check without limit."""
    if is_staff(request):
        return True
    visitor, user = current_visitor(request), _user(request)
    if visitor is None and user is None:
        return False
    return Entitlement.objects.pass_until(visitor, user) is not None


def _free_left(request: HttpRequest) -> int | None:
    """Free checks left today for this IP and visitor (the smaller); None when unlimited."""
    left = []
    ip_limit = settings.FANWEN_CHECK_FREE_PER_IP_DAY
    if ip_limit > 0:
        ip = ratelimit.ip_key(ratelimit.client_ip(request))
        left.append(ip_limit - ratelimit.count(RATE_SCOPE, ip, window=DAY))
    visitor_id = signed_visitor_id(request.COOKIES)
    limit = settings.FANWEN_CHECK_FREE_PER_DAY
    if limit > 0 and visitor_id:
        left.append(limit - ratelimit.count(RATE_SCOPE, "v:" + visitor_id, window=DAY))
    return max(0, min(left)) if left else None


def _take_free_check(request: HttpRequest) -> bool:
    return ratelimit.allowed(
        request,
        RATE_SCOPE,
        signed_visitor_id(request.COOKIES),
        limit=settings.FANWEN_CHECK_FREE_PER_DAY,
        ip_limit=settings.FANWEN_CHECK_FREE_PER_IP_DAY,
        window=DAY,
    )


def _private(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    # A kept report's link is its key: never sent to another site as a referrer. (Not
    # no-referrer: the browser would then send "Origin: null" and fail the form's CSRF check.)
    response["Referrer-Policy"] = "same-origin"
    return response


@csrf_exempt  # the handlers must be set before CSRF reads the body; _check_page checks it
@sensitive_post_parameters("draft")
def check_page(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        request.upload_handlers = [MemoryOnlyUpload(request)]
    return _check_page(request)


@csrf_protect
@require_http_methods(["GET", "POST"])
def _check_page(request: HttpRequest) -> HttpResponse:
    unlimited = _unlimited(request)
    context: dict[str, Any] = {
        "max_chars": MAX_CHARS,
        "unlimited": unlimited,
        "free_per_day": settings.FANWEN_CHECK_FREE_PER_DAY or settings.FANWEN_CHECK_FREE_PER_IP_DAY,
        "keep_days": settings.FANWEN_CHECK_REPORT_DAYS,
        "deleted": request.GET.get("deleted") == "1",
        "meta_description": "原创度检测：粘贴或上传稿件，一秒看出哪些句子与范文库相似、出自哪篇范文。",
    }
    status = 200
    if request.method == "POST":
        context["draft"] = request.POST.get("draft", "")
        upload = request.FILES.get("file")
        try:
            if upload is not None:
                context["draft"] = read_upload(upload)
            draft = clean(context["draft"])
        except DraftRejected as exc:
            context["error"] = str(exc)
            status = 400
        else:
            if not unlimited and not _take_free_check(request):
                context["limited"] = True
                status = 429
            else:
                report = matching.check(draft)
                if request.POST.get("keep"):
                    return _private(redirect(do_keep_report(report)))
                context["report"] = report
                context["draft"] = draft
    if not unlimited:
        context["free_left"] = _free_left(request)
    return _private(render(request, "checks/check.html", context, status=status))


def _kept(token: str) -> KeptReport:
    kept = KeptReport.objects.filter(token=token).first()
    if kept is None:
        raise Http404("报告不存在或已删除")
    if kept.is_expired():
        kept.delete()
        raise Http404("报告已过保存期限")
    return kept


@require_http_methods(["GET", "HEAD"])
def report_page(request: HttpRequest, token: str) -> HttpResponse:
    kept = _kept(token)
    context = {
        "report": matching.Report.from_json(kept.result),
        "kept": kept,
        "keep_days": settings.FANWEN_CHECK_REPORT_DAYS,
        "meta_description": "原创度检测报告",
    }
    return _private(render(request, "checks/report.html", context))


@require_POST
def delete_report(request: HttpRequest, token: str) -> HttpResponse:
    _kept(token).delete()
    return _private(redirect("/check/?deleted=1"))
