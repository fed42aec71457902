"""The reading pages: home, category, article; anonymous pages come from the page cache."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.paginator import InvalidPage
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.utils.text import Truncator

from fanwen import search
from fanwen.accounts.visitors import is_staff
from fanwen.library import listings, pagecache, viewcount
from fanwen.library.catalog import category_tree
from fanwen.library.context_processors import absolute_url
from fanwen.library.models import Article, Category, Piece, count_words
from fanwen.protection import render as render_protection
from fanwen.protection.crawlers import claimed_crawler
from fanwen.protection.offers import offers_fresh_seconds, paywall_config, paywall_offers
from fanwen.seo.structured import article_graph
from fanwen.stats import counters
from fanwen.stats.models import Metric

DESCRIPTION_CHARS = 120
# A shared cache (nginx) is not purged by an edit, so it keeps an anonymous page only briefly.
SHARED_CACHE_SECONDS = 10
log = logging.getLogger("fanwen.library")


def shared_cache_seconds() -> int:
    """s-maxage of an anonymous page: a few seconds, and never longer than our own page cache."""
    return max(0, min(SHARED_CACHE_SECONDS, pagecache.page_seconds()))


def cache_headers(public: bool) -> list[tuple[str, str]]:
    """Cache-Control and Vary of a reading page (the WSGI fast path sends the same).

    Public: the page every reader without a right gets; browsers ask again each time (a
    purchase must show at once) and shared caches may keep it briefly. Otherwise the page
    was chosen for this reader (rights, login, crawler, staff) and nobody may store it.
    """
    if public:
        control = f"public, max-age=0, s-maxage={shared_cache_seconds()}"
    else:
        control = "private, no-store"
    # A cookie may carry a right: a shared cache must never answer it with another's copy.
    headers = [("Cache-Control", control), ("Vary", "Cookie")]
    if public:
        # nginx reads max-age=0 as "do not keep"; this header (which it never passes on) is
        # the micro-cache's lifetime of the anonymous copy (deploy/nginx.conf).
        headers.append(("X-Accel-Expires", str(shared_cache_seconds())))
    return headers


def _with_cache_headers(response: HttpResponse, *, public: bool) -> HttpResponse:
    headers = dict(cache_headers(public))
    response["Cache-Control"] = headers["Cache-Control"]
    if "X-Accel-Expires" in headers:
        response["X-Accel-Expires"] = headers["X-Accel-Expires"]
    # Added to, not replacing: the session and CSRF middleware may vary a page by Cookie too.
    patch_vary_headers(response, (headers["Vary"],))
    return response


def page_key(scheme: str, host: str, name: str) -> str:
    # Without SITE_URL the canonical link carries the request's origin, so the key must too.
    origin = "" if settings.SITE_URL else f"{scheme}://{host}"
    return f"fw:p:{origin}:{name}"


def _page_key(request: HttpRequest, name: str) -> str:
    return page_key(request.scheme, request.get_host(), name)


def _cached_html(body: bytes, *, public: bool) -> HttpResponse:
    response = HttpResponse(body, content_type="text/html; charset=utf-8")
    # Set here because the fast path in middleware.py skips CommonMiddleware (no chunking).
    response["Content-Length"] = str(len(body))
    response["X-Page-Cache"] = "hit"
    return _with_cache_headers(response, public=public)


def _logged_in(request: HttpRequest) -> bool:
    # A session cookie may carry a login: what it is served is nobody else's to keep.
    return settings.SESSION_COOKIE_NAME in request.COOKIES


def _serve(
    request: HttpRequest, name: str, render_page: Callable[[], HttpResponse]
) -> HttpResponse:
    """Anonymous readers get the cached page; staff always get a fresh one."""
    if is_staff(request):
        return _with_cache_headers(render_page(), public=False)
    public = not _logged_in(request)
    key = _page_key(request, name)
    body, gen = pagecache.lookup(key)
    if body is not None:
        return _cached_html(body, public=public)
    response = render_page()
    pagecache.store(key, response.content, gen, pagecache.page_seconds())
    response["X-Page-Cache"] = "miss"
    return _with_cache_headers(response, public=public)


def _description(text: str) -> str:
    return Truncator(" ".join(text.split())).chars(DESCRIPTION_CHARS)


def home(request: HttpRequest) -> HttpResponse:
    def render_page() -> HttpResponse:
        context = {
            "categories": category_tree().roots,
            "is_home": True,
            "latest": listings.latest(20),
            "most_read": listings.most_read(10),
            "canonical_url": absolute_url(request, "/"),
        }
        return render(request, "library/home.html", context)

    return _serve(request, "home", render_page)


def category(request: HttpRequest, slug: str) -> HttpResponse:
    tree = category_tree()
    node = tree.by_slug.get(slug)
    if node is None and Category.objects.filter(slug=slug).exists():
        # Created by another process whose edit this process's cache has not seen yet.
        tree = category_tree(refresh=True)
        node = tree.by_slug.get(slug)
    if node is None or not node.public:
        raise Http404("没有这个分类")
    number = request.GET.get("page", "1")
    if not number.isdigit() or int(number) < 1:
        raise Http404("页码不对")
    number = int(number)

    def render_page() -> HttpResponse:
        try:
            page = listings.category_page(node.id, tree.descendant_ids(node), number)
        except InvalidPage as exc:
            raise Http404("没有这一页") from exc
        path = node.url if number == 1 else f"{node.url}?page={number}"
        intro = (
            node.description or f"{node.name}范文精选，共{page.paginator.count}篇，免费在线阅读。"
        )
        context = {
            "category": node,
            "trail": tree.ancestors(node),
            "page": page,
            "page_links": listings.page_window(page),
            "canonical_url": absolute_url(request, path),
            "meta_description": _description(intro),
        }
        return render(request, "library/category.html", context)

    return _serve(request, f"c:{node.id}:{number}", render_page)


def _count_view(request: HttpRequest, article_id: int) -> None:
    viewcount.record_view(article_id)
    # The dashboard's funnel counts readers: a search crawler's claim is not one (a regex).
    if claimed_crawler(request.META.get("HTTP_USER_AGENT", "")) is None:
        counters.record(Metric.ARTICLE_VIEW)


def article(request: HttpRequest, article_id: int) -> HttpResponse:
    staff = is_staff(request)
    # Only the reader everyone is (no cookie that may carry a right, no crawler claim) gets a
    # page that shared caches may keep; any other reader's variant was chosen for them.
    everyone = not staff and not render_protection.may_differ(request)
    if everyone:
        # The anonymous variant straight from the cache.
        key = _page_key(request, f"a:{article_id}:{render_protection.anonymous_cache_name()}")
        body, _ = pagecache.lookup(key)
        if body is not None:
            _count_view(request, article_id)
            return _cached_html(body, public=True)
    # Ids past a 64-bit integer would make the database driver raise instead of finding nothing.
    item = Article.objects.filter(pk=article_id).first() if article_id < 2**63 else None
    if item is None or not (item.is_public or staff):
        raise Http404("文章不存在或未发布")
    rendering = render_protection.rendering_for(request, item, staff=staff)
    cacheable = item.is_public and not staff and rendering.cache_name is not None
    key, gen = "", 0
    if cacheable:
        key = _page_key(request, f"a:{article_id}:{rendering.cache_name}")
        body, gen = pagecache.lookup(key)
        if body is not None:
            _count_view(request, article_id)
            return _cached_html(body, public=everyone)
    rendering = rendering.resolved(item)
    context = _article_context(request, item, staff, rendering)
    response = render(request, "library/article.html", context)
    if item.is_public:
        _count_view(request, item.pk)
        if cacheable and rendering.cache_name is not None:
            # The page shows the paywall's prices: kept no longer than they hold.
            seconds = offers_fresh_seconds(pagecache.page_seconds())
            pagecache.store(key, response.content, gen, seconds)
            response["X-Page-Cache"] = "miss"
    # A page we do not cache ourselves no shared cache keeps either.
    public = everyone and item.is_public and rendering.cache_name is not None
    return _with_cache_headers(response, public=public)


@dataclass
class Section:
    """One piece as the article page shows it."""

    anchor: str
    position: int
    label: str
    heading: str
    show_label: bool
    blocks: list[dict]
    note: str


def _sections(
    item: Article, pieces: list[Piece], rendering: render_protection.Rendering
) -> list[Section]:
    labels = {p.pk: p.label for p in pieces}
    sections = []
    for p in pieces:
        note = ""
        if p.duplicate_of_id in labels:
            note = f"本篇与{labels[p.duplicate_of_id]}内容相近，可对照参考。"
        elif p.duplicate_of_id:
            note = "本篇与本站其他范文内容相近。"
        # A lone untitled piece needs no heading: the page title already says it.
        heading = p.title or ("" if len(pieces) == 1 else f"{item.title}{p.label}")
        show_label = len(pieces) > 1 and p.label not in heading
        blocks = [
            {"kind": b.get("kind"), "text": rendering.obfuscate(b["text"])}
            if b.get("kind") == "p"
            else b
            for b in p.blocks
            if isinstance(b, dict) and b.get("text")
        ]
        sections.append(Section(p.anchor, p.position, p.label, heading, show_label, blocks, note))
    return sections


def _similar(item: Article, limit: int = 6) -> list[Article]:
    """Articles about the same things, by the search index (the page is cached, so this is rare)."""
    try:
        ids = search.related(item, limit=limit)
    except Exception:
        # The index is an aid here: a missing or broken one must not take the article down.
        log.exception("related articles of %s: search failed", item.pk)
        return []
    found = Article.objects.published().filter(pk__in=ids)
    by_id = {a.pk: a for a in found}
    return [by_id[i] for i in ids if i in by_id]


def _article_context(
    request: HttpRequest, item: Article, staff: bool, rendering: render_protection.Rendering
) -> dict:
    tree = category_tree()
    if item.category_id not in tree.by_id:
        tree = category_tree(refresh=True)
    node = tree.by_id[item.category_id]
    # Not `text` (the same words again) nor the importer's signatures: only what is shown.
    fields = ("id", "article_id", "position", "title", "blocks", "duplicate_of_id")
    pieces = list(item.pieces.only(*fields).order_by("position"))
    trail = tree.ancestors(node)
    canonical_url = absolute_url(request, item.get_absolute_url())
    # From the free parts only: search engines show it to everyone, whoever it went to.
    description = _description(
        item.intro or f"{item.display_title}，{node.name}范文，免费在线阅读。"
    )
    return {
        "article": item,
        # The meta line: the body's 字数 as Word counts it (piece titles and blocks, the
        # words a buyer gets in the .docx) and the number of pieces. Grouped like "2,345"
        # whatever the locale (zh-hans would print 2345).
        "word_count": "{:,}".format(
            sum(
                count_words(piece.title)
                + sum(count_words(b.get("text", "")) for b in piece.blocks if isinstance(b, dict))
                for piece in pieces
            )
        ),
        "piece_total": len(pieces),
        "category": node,
        "trail": trail,
        "sections": _sections(item, pieces, rendering),
        "rendering": rendering,
        "offers": paywall_offers(item),
        "paywall_config": paywall_config(item),
        "related": listings.related(item),
        "similar": _similar(item),
        "staff_view": staff,
        "canonical_url": canonical_url,
        "meta_description": description,
        # JSON-LD for search engines: the same for every reader, like the rest of the head.
        "structured_data": article_graph(
            article=item,
            description=description,
            canonical_url=canonical_url,
            trail=trail,
            absolute=lambda path: absolute_url(request, path),
        ),
    }


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    context = {"categories": category_tree().roots[:8], "meta_description": "页面不存在。"}
    return render(request, "404.html", context, status=404)


def robots_txt(request: HttpRequest) -> HttpResponse:
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "",
        f"Sitemap: {absolute_url(request, '/sitemap.xml')}",
        "",
    ]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")
