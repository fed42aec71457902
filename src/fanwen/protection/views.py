"""The clean text and the DOCX: handed only to a reader with the right, the buyer mark inside.

POST /a/<id>/text/       → the clean paragraphs for the page, the marked text per piece for
                           the clipboard, the placeholders to fill and a signed download link.
GET  /a/<id>/download    → (with the right) a redirect to a fresh signed link; else 402.
GET  /dl/<token>.docx    → the DOCX the token names, while the token is fresh; else 403.
"""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import segno
from django.conf import settings
from django.core import signing
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
)
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from fanwen.exports.docx import build_docx
from fanwen.exports.fill import apply_fill
from fanwen.exports.text import article_placeholder_groups, article_text, title_line_numbers
from fanwen.library.models import Article
from fanwen.payments.backends import is_payment_link
from fanwen.protection.access import ReaderRight, reader_right, take_under_pass
from fanwen.protection.fonts import clean_font_for, font_face_css
from fanwen.protection.mark import embed_mark, encode_mark
from fanwen.protection.render import level

log = logging.getLogger("fanwen.protection")

DOWNLOAD_SALT = "fanwen.protection.download"
MAX_FILL_VALUES = 40


def _public_article(article_id: int) -> Article | None:
    if article_id >= 2**63:
        return None
    item = Article.objects.filter(pk=article_id).select_related("category").first()
    return item if item is not None and item.is_public else None


def _payment_required() -> JsonResponse:
    return JsonResponse(
        {"code": "PaymentRequired", "message": "购买本篇或包月后即可复制和下载。"}, status=402
    )


def _cap_reached() -> JsonResponse:
    cap = settings.FANWEN_PASS_DAILY_CAP
    message = f"包月会员每天最多复制或下载{cap}篇，今天的额度已用完，明天0点恢复。"
    return JsonResponse({"code": "PassCapReached", "message": message}, status=429)


def _fill_values(raw: Any) -> dict[str, str]:
    """The reader's placeholder values; refused whole when malformed (ValueError with a message)."""
    if raw in (None, ""):
        return {}
    if not isinstance(raw, dict) or len(raw) > MAX_FILL_VALUES:
        raise ValueError("填写内容格式不对。")
    return {str(k): str(v) for k, v in raw.items() if isinstance(v, str) and v.strip()}


def _piece_position(raw: Any, article: Article) -> int | None:
    if raw in (None, ""):
        return None
    try:
        position = int(raw)
    except (TypeError, ValueError) as exc:
        raise ValueError("没有这一篇。") from exc
    if not article.pieces.filter(position=position).exists():
        raise ValueError("没有这一篇。")
    return position


def _clean_font(article: Article) -> dict | None:
    # A protected page swaps to the clean font with the clean text, so nothing shifts.
    if level() != "font":
        return None
    font = clean_font_for(article)
    if font is None:
        return None
    return {"family": font.clean_family, "css": font_face_css(font, clean=True)}


def _marked(
    text: str, right: ReaderRight, article: Article, piece_position: int | None = None
) -> str:
    if not right.order_id:
        return text
    # Titles stay as they are: a mark there would be the first thing a buyer might notice.
    titles = title_line_numbers(article, piece_position=piece_position)
    return embed_mark(text, right.order_id, unmarked_lines=titles)


def download_token(
    article: Article, right: ReaderRight, piece: int | None, fill: dict[str, str]
) -> str:
    payload = {"a": article.pk, "v": article.content_version, "p": piece, "o": right.order_id}
    if fill:
        payload["f"] = fill
    return signing.dumps(payload, salt=DOWNLOAD_SALT, compress=True)


def _download_url(token: str) -> str:
    return reverse("paywall:docx", args=[token])


# Exempt: it changes nothing a forged request could abuse (the visitor cookie is SameSite=Lax,
# and a cross-site page cannot read the answer); the cached page has no token to send.
@csrf_exempt
@require_POST
@never_cache
def clean_text(request: HttpRequest, article_id: int) -> HttpResponse:
    """{piece?, fill?} → the clean text for a reader with the right; 402 without it.

    The page calls it on load, so it also hands out the CSRF cookie the order POST needs.
    """
    get_token(request)
    article = _public_article(article_id)
    if article is None:
        return JsonResponse({"code": "NotFound", "message": "文章不存在。"}, status=404)
    right = reader_right(request, article)
    if not right.allowed:
        return _payment_required()
    try:
        data = json.loads(request.body or b"{}")
        if not isinstance(data, dict):
            raise ValueError("请求格式不对。")
        fill = _fill_values(data.get("fill"))
        piece = _piece_position(data.get("piece"), article)
        fill_text = (lambda text: apply_fill(text, fill)) if fill else (lambda text: text)
        pieces = list(article.pieces.order_by("position"))
        texts = {
            p.position: fill_text(article_text(article, piece_position=p.position)) for p in pieces
        }
        whole = fill_text(article_text(article))
    except ValueError as exc:
        return JsonResponse({"code": "InvalidInput", "message": str(exc)}, status=400)
    if not take_under_pass(right, article):
        return _cap_reached()
    body = {
        "kind": right.kind,
        "pass_until": right.pass_until.isoformat() if right.pass_until else None,
        # What the page shows: each piece's paragraphs, in the order the template renders them.
        "paras": {
            p.anchor: [
                fill_text(b["text"])
                for b in p.blocks
                if isinstance(b, dict) and b.get("kind") == "p" and b.get("text")
            ]
            for p in pieces
        },
        "font": _clean_font(article),
        "pieces": [
            {
                "position": p.position,
                "anchor": p.anchor,
                "text": _marked(texts[p.position], right, article, p.position),
            }
            for p in pieces
        ],
        "text": _marked(whole, right, article),
        "mark": encode_mark(right.order_id) if right.order_id else "",
        "fill_groups": article_placeholder_groups(article),
        "download_url": _download_url(download_token(article, right, piece, fill)),
    }
    return JsonResponse(body)


@require_GET
@never_cache
def download(request: HttpRequest, article_id: int) -> HttpResponse:
    """下载此文档 without JavaScript: a fresh signed link for a reader with the right."""
    article = _public_article(article_id)
    if article is None:
        return render(request, "404.html", {}, status=404)
    right = reader_right(request, article)
    if not right.allowed:
        context = {"article": article, "message": "购买本篇或包月后即可下载Word文档。"}
        return render(request, "protection/payment_required.html", context, status=402)
    try:
        piece = _piece_position(request.GET.get("piece"), article)
    except ValueError:
        piece = None
    if not take_under_pass(right, article):
        context = {"article": article, "message": _cap_reached_message()}
        return render(request, "protection/payment_required.html", context, status=429)
    return HttpResponseRedirect(_download_url(download_token(article, right, piece, {})))


def _cap_reached_message() -> str:
    return json.loads(_cap_reached().content)["message"]


@require_GET
@never_cache
def docx(request: HttpRequest, token: str) -> HttpResponse:
    try:
        payload = signing.loads(
            token, salt=DOWNLOAD_SALT, max_age=settings.FANWEN_DOWNLOAD_URL_SECONDS
        )
    except signing.SignatureExpired:
        return _forbidden(request, "下载链接已过期，请回到文章页重新点击“下载此文档”。")
    except signing.BadSignature:
        return _forbidden(request, "下载链接无效。")
    article = _public_article(int(payload["a"]))
    if article is None:
        return _forbidden(request, "文章已下线。")
    data = build_docx(
        article,
        piece_position=payload.get("p"),
        fill=payload.get("f") or None,
        order_id=payload.get("o"),
    )
    response = HttpResponse(
        data,
        content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )
    response["Content-Disposition"] = content_disposition_header(True, f"{article.title}.docx")
    response["Cache-Control"] = "private, no-store"
    log.info("docx: article %s piece %s order %s", article.pk, payload.get("p"), payload.get("o"))
    return response


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "protection/payment_required.html", {"message": message}, status=403)


QR_MAX_LENGTH = 512


@require_GET
def qr_svg(request: HttpRequest) -> HttpResponse:
    """The payment QR code as SVG, only for payment links (never a general QR service)."""
    data = request.GET.get("d", "")
    if len(data) > QR_MAX_LENGTH or not is_payment_link(data):
        return HttpResponse("不是支付链接。", status=400, content_type="text/plain; charset=utf-8")
    out = io.BytesIO()
    segno.make(data, error="m").save(out, kind="svg", scale=5, border=2, xmldecl=False)
    response = HttpResponse(out.getvalue(), content_type="image/svg+xml")
    response["Cache-Control"] = "private, max-age=3600"
    return response
