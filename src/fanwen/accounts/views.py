"""Account pages: optional sign-up and login, 我的购买 with restore by order or transaction number."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods

from fanwen.accounts.forms import (
    LoginForm,
    NewPasswordForm,
    ResetRequestForm,
    RestoreForm,
    SignupForm,
    normalize_identifier,
)
from fanwen.accounts.loginlimits import limited_login, masked_identifier
from fanwen.accounts.models import Visitor
from fanwen.accounts.visitors import current_visitor, get_or_create_visitor, set_visitor_cookie
from fanwen.lib.clientip import client_ip
from fanwen.lib.money import fen_to_yuan
from fanwen.lib.ratelimit import allowed, hit, ip_key
from fanwen.orders.actions import RestoreResult, do_restore
from fanwen.orders.errors import OrderNotPaid, UnknownOrder
from fanwen.orders.models import Entitlement, Order
from fanwen.support.actions import mail_enabled

log = logging.getLogger("fanwen.accounts")

MAX_ORDERS_SHOWN = 100
# A restore number has 100 random bits, but a transaction number is shorter: keep guessing slow.
RESTORE_LIMIT = 5
RESTORE_WINDOW_SECONDS = 600
RATE_LIMITED_MESSAGE = (
    f"尝试次数过多：每 {RESTORE_WINDOW_SECONDS // 60} 分钟最多恢复 {RESTORE_LIMIT} 次，"
    "请稍后再试，或联系客服。"
)
SIGNUP_LIMIT = 5
SIGNUP_IP_LIMIT = 10
SIGNUP_WINDOW_SECONDS = 3600
SIGNUP_LIMITED_MESSAGE = (
    f"注册尝试次数过多，请 {SIGNUP_WINDOW_SECONDS // 60} 分钟后再试，或联系客服。"
)


# Each reset request sends an email: a few per address and per IP an hour, so the form can
# neither flood someone's inbox nor serve as a mail cannon.
RESET_LIMIT = 3
RESET_IP_LIMIT = 10
RESET_WINDOW_SECONDS = 3600
RESET_LIMITED_MESSAGE = (
    f"找回密码的请求过多，请 {RESET_WINDOW_SECONDS // 60} 分钟后再试；"
    "没有收到邮件请检查垃圾邮件箱，或联系客服。"
)


def _over_limit(
    request: HttpRequest, scope: str, identifier: str, *, limit: int, ip_limit: int, window: int
) -> bool:
    """Count this attempt for the IP and the account identifier; True when either is over its limit."""
    checks = [hit(scope, ip_key(client_ip(request)), limit=ip_limit, window=window)]
    if identifier:
        # Hashed: user input never becomes a cache key as it is.
        digest = hashlib.sha256(identifier.encode()).hexdigest()[:32]
        checks.append(hit(scope, "id:" + digest, limit=limit, window=window))
    return not all(checks)


def _limited_response(response: HttpResponse, window: int) -> HttpResponse:
    response.status_code = 429
    response["Retry-After"] = str(window)
    return response


def _keep_browser_apart(request: HttpRequest, response: HttpResponse) -> None:
    """After a login, a browser whose visitor belongs to another account gets a fresh visitor.

    The login signal declines to merge such a visitor (a shared computer); without a fresh one
    this account's new purchases would land on the other person's visitor.
    """
    visitor = current_visitor(request)
    if visitor is None:
        return
    owner = Visitor.objects.filter(pk=visitor.pk).values_list("user_id", flat=True).first()
    if owner is not None and owner != request.user.pk:
        fresh = Visitor.objects.create(user=request.user)
        set_visitor_cookie(response, fresh)
        log.info(
            "login of user %s: browser visitor %s belongs to user %s, issued %s",
            request.user.pk,
            visitor.pk,
            owner,
            fresh.pk,
        )


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("accounts:purchases")


class SiteNameMixin:
    """Django's auth views put the host name in `site_name` (no sites framework); the layout
    wants SITE_NAME from the context processor."""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)  # type: ignore[misc]
        context.pop("site_name", None)
        return context


class LoginView(SiteNameMixin, auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True
    next_page = reverse_lazy("accounts:purchases")

    def form_invalid(self, form: LoginForm) -> HttpResponse:
        identifier = normalize_identifier(form.data.get("username", ""))
        log.warning(
            "login failed from %s as %r: %s",
            client_ip(self.request),
            masked_identifier(identifier),
            "; ".join(str(error) for error in form.non_field_errors()) or "incomplete form",
        )
        return super().form_invalid(form)

    def form_valid(self, form: LoginForm) -> HttpResponse:
        # auth_login() inside sends user_logged_in: the signal merges this browser's purchases.
        response = super().form_valid(form)
        _keep_browser_apart(self.request, response)
        log.info("login: user %s from %s", self.request.user.pk, client_ip(self.request))
        return response


def _login_limited_page(request: HttpRequest, message: str) -> HttpResponse:
    # The login page with the message, the account name kept; never a password check.
    view = LoginView()
    view.setup(request)
    identifier = normalize_identifier(request.POST.get("username", ""))[:150]
    form = LoginForm(request, initial={"username": identifier})
    return view.render_to_response(view.get_context_data(form=form, limited_message=message))


# Failed password checks are counted per account, per IP and per both (see loginlimits).
login_view = limited_login(LoginView.as_view(), _login_limited_page)


class LogoutView(auth_views.LogoutView):
    next_page = "/"


class PasswordResetView(SiteNameMixin, auth_views.PasswordResetView):
    """Django's reset by email, rate limited; it says the same whether the address is known."""

    template_name = "accounts/password_reset_form.html"
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"
    form_class = ResetRequestForm
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form: ResetRequestForm) -> HttpResponse:
        # The email is rendered without a request: it gets the site's name here.
        self.extra_email_context = {"site_title": settings.SITE_NAME}
        log.info(
            "password reset asked for %r from %s",
            masked_identifier(form.cleaned_data["email"]),
            client_ip(self.request),
        )
        return super().form_valid(form)

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not mail_enabled():
            # No SMTP here (EMAIL_HOST): no form that could not send, but who can help.
            return self.render_to_response({"mail_off": True})
        return super().dispatch(request, *args, **kwargs)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        email = normalize_identifier(request.POST.get("email", ""))[:254]
        limits = {"limit": RESET_LIMIT, "ip_limit": RESET_IP_LIMIT, "window": RESET_WINDOW_SECONDS}
        if _over_limit(request, "reset", email, **limits):
            log.warning(
                "password reset for %r from %s refused: rate limited",
                masked_identifier(email),
                client_ip(request),
            )
            form = self.get_form_class()(initial={"email": email})
            context = self.get_context_data(form=form, limited_message=RESET_LIMITED_MESSAGE)
            page = self.render_to_response(context)
            return _limited_response(page, RESET_WINDOW_SECONDS)
        return super().post(request, *args, **kwargs)


class PasswordResetDoneView(SiteNameMixin, auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(SiteNameMixin, auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    form_class = NewPasswordForm
    success_url = reverse_lazy("accounts:password_reset_complete")


class PasswordResetCompleteView(SiteNameMixin, auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("accounts:purchases")
    if request.method == "POST":
        identifier = normalize_identifier(request.POST.get("username", ""))[:150]
        limits = {
            "limit": SIGNUP_LIMIT,
            "ip_limit": SIGNUP_IP_LIMIT,
            "window": SIGNUP_WINDOW_SECONDS,
        }
        # Also keeps "这个邮箱或手机号已经注册" from telling a script which accounts exist.
        if _over_limit(request, "signup", identifier, **limits):
            log.warning(
                "signup from %s as %r refused: rate limited",
                client_ip(request),
                masked_identifier(identifier),
            )
            context = {
                "form": SignupForm(initial={"username": identifier}),
                "next": _next_url(request),
                "limited_message": SIGNUP_LIMITED_MESSAGE,
            }
            page = render(request, "accounts/signup.html", context)
            return _limited_response(page, SIGNUP_WINDOW_SECONDS)
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        response = redirect(_next_url(request))
        _keep_browser_apart(request, response)
        log.info("signup: user %s from %s", user.pk, client_ip(request))
        messages.success(request, "注册成功，本浏览器的购买已保存到您的账户。")
        return response
    status = 400 if request.method == "POST" else 200
    return render(
        request, "accounts/signup.html", {"form": form, "next": _next_url(request)}, status=status
    )


def _grants(order: Order, visitor: Visitor | None, user: Any) -> list[dict[str, Any]]:
    rows = []
    for entitlement in order.entitlements.all():
        here = (user is not None and entitlement.user_id == user.pk) or entitlement.held_in(visitor)
        rows.append(
            {
                "kind": entitlement.kind,
                "article": entitlement.article,
                "ends_at": entitlement.ends_at,
                "revoked": entitlement.revoked_at is not None,
                "here": here,
            }
        )
    return rows


def _purchases_context(request: HttpRequest, form: RestoreForm) -> dict[str, Any]:
    visitor = current_visitor(request)
    user = request.user if request.user.is_authenticated else None
    holder = Q()
    if visitor is not None:
        # Restored orders keep their original visitor: their entitlements say whose they are now.
        holder |= (
            Q(visitor=visitor)
            | Q(entitlements__visitor=visitor)
            | Q(entitlements__places__visitor=visitor)
        )
    if user is not None:
        holder |= Q(user=user) | Q(entitlements__user=user)
    orders: list[Order] = []
    if holder:
        orders = list(
            Order.objects.filter(holder)
            # A closed, never-paid order holds nothing worth showing; nor does one left unpaid
            # past its expiry (the worker closes it later).
            .exclude(status=Order.Status.CLOSED, paid_at__isnull=True)
            .exclude(status=Order.Status.PENDING, expires_at__lte=timezone.now())
            .distinct()
            .select_related("plan", "article")
            .prefetch_related("entitlements__article")
            .order_by("-created_at")[:MAX_ORDERS_SHOWN]
        )
    rows = [
        {
            "order": order,
            "yuan": fen_to_yuan(order.amount_fen),
            "grants": _grants(order, visitor, user),
        }
        for order in orders
    ]
    return {
        "rows": rows,
        "form": form,
        "pass_until": Entitlement.objects.pass_until(visitor, user) if holder else None,
        "now": timezone.now(),
        "restore_places": settings.FANWEN_RESTORE_PLACES,
    }


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def purchases(request: HttpRequest) -> HttpResponse:
    """我的购买: this browser's and this account's orders; POST restores one by its number."""
    if request.method == "POST":
        return _restore(request)
    return render(request, "accounts/purchases.html", _purchases_context(request, RestoreForm()))


def _restore(request: HttpRequest) -> HttpResponse:
    ip = client_ip(request)
    visitor = current_visitor(request)
    form = RestoreForm(request.POST)
    number = _masked((request.POST.get("number") or "").strip()[:64])

    def fail(message: str, status: int, outcome: str) -> HttpResponse:
        log.log(
            logging.WARNING if status == 429 else logging.INFO,
            "restore attempt from %s visitor %s number %r: %s",
            ip,
            visitor.pk if visitor else None,
            number,
            outcome,
        )
        form.add_error(None, message)
        context = _purchases_context(request, form)
        return render(request, "accounts/purchases.html", context, status=status)

    # Counted before anything else, so malformed and failed attempts use up the budget too.
    visitor_id = str(visitor.pk) if visitor else None
    limits = {"limit": RESTORE_LIMIT, "ip_limit": RESTORE_LIMIT, "window": RESTORE_WINDOW_SECONDS}
    if not allowed(request, "restore", visitor_id, **limits):
        return fail(RATE_LIMITED_MESSAGE, 429, "rate limited")
    if not form.is_valid():
        return fail("请输入订单号或交易单号。", 400, "invalid form")

    response = redirect("accounts:purchases")
    # The browser may have no visitor yet (cleared cookies): restoring creates one.
    visitor = get_or_create_visitor(request, response)
    try:
        restored = do_restore(
            visitor=visitor,
            number=form.cleaned_data["number"],
            user=request.user if request.user.is_authenticated else None,
        )
    except UnknownOrder as exc:
        return _with_cookies(fail(exc.user_message, 404, "unknown number"), response)
    except OrderNotPaid as exc:
        return _with_cookies(fail(exc.user_message, 409, "not paid"), response)
    log.info(
        "restore attempt from %s visitor %s number %r: restored %d entitlement(s)",
        ip,
        visitor.pk,
        number,
        len(restored.entitlements),
    )
    messages.success(request, _restored_message(restored))
    return response


def _masked(number: str) -> str:
    # A restore number opens the purchase, so logs keep only enough of it to match a complaint.
    return number if len(number) <= 12 else f"{number[:8]}…{number[-4:]}"


def _with_cookies(response: HttpResponse, source: HttpResponse) -> HttpResponse:
    # A visitor created for a failed attempt is kept: the next try counts against it.
    for name, morsel in source.cookies.items():
        response.cookies[name] = morsel
    return response


def _restored_message(restored: RestoreResult) -> str:
    entitlements = restored.entitlements
    if not entitlements:
        return "订单已找到，但它目前没有可恢复的权益（可能已退款），如有疑问请联系客服。"
    parts = []
    for entitlement in entitlements:
        if entitlement.kind == Entitlement.Kind.PASS:
            ends = timezone.localtime(entitlement.ends_at).strftime("%Y-%m-%d %H:%M")
            parts.append(f"包月（至 {ends}）")
        else:
            parts.append(f"《{entitlement.article.title}》")
    message = "已恢复到本浏览器：" + "、".join(parts) + "。"
    if restored.added_to_account:
        message += "已同时存入您的账户，登录即可在任何浏览器使用。"
    if restored.dropped:
        message += (
            f"此订单最多在 {settings.FANWEN_RESTORE_PLACES} 个浏览器使用，"
            "最早恢复的浏览器已不再可用。"
        )
    elif restored.places > 1:
        message += f"此订单现可在 {restored.places} 个浏览器使用。"
    return message
