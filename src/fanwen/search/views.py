"""The search page: /search?q=…&c=<category slug>&page=N."""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import urlencode

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from fanwen import search
from fanwen.accounts.visitors import is_staff, signed_visitor_id
from fanwen.lib import ratelimit
from fanwen.library import listings
from fanwen.library.catalog import Node as CategoryNode
from fanwen.library.catalog import category_tree
from fanwen.protection.pagelimit import seconds_left, too_many_response

PER_PAGE = 10
MAX_QUERY_CHARS = 60
# Tantivy pages by offset: deep pages cost more and nobody reads them.
MAX_PAGE = 50
RATE_SCOPE = "search"
# FANWEN_SEARCH_RATE_LIMIT and FANWEN_SEARCH_IP_RATE_LIMIT count searches per minute.
RATE_WINDOW = 60


@dataclass(frozen=True)
class ShownHit:
    hit: search.Hit
    url: str
    category: CategoryNode | None


def _suggested_categories(query: str, nodes: list[CategoryNode]) -> list[CategoryNode]:
    # A category whose name shares two characters in a row with the query is worth a look.
    pairs = {query[i : i + 2] for i in range(len(query) - 1)}
    found = [n for n in nodes if any(p in n.name for p in pairs)]
    return found[:8] or [n for n in nodes if n.parent_id is None][:8]


def _over_search_limit(request: HttpRequest) -> bool:
    """Count one search for this IP and (with a signed visitor cookie) this visitor."""
    visitor_limit = settings.FANWEN_SEARCH_RATE_LIMIT
    ip_limit = settings.FANWEN_SEARCH_IP_RATE_LIMIT
    if visitor_limit <= 0 and ip_limit <= 0:
        return False
    visitor_id = signed_visitor_id(request.COOKIES) if visitor_limit > 0 else None
    within = ratelimit.allowed(
        request,
        RATE_SCOPE,
        visitor_id,
        limit=visitor_limit,
        ip_limit=ip_limit,
        window=RATE_WINDOW,
    )
    # Staff search to edit; the user is loaded only for a search already over the limit.
    return not within and not is_staff(request)


def _too_long_notice(typed: str, searched: str) -> str:
    return (
        f"搜索词最多 {MAX_QUERY_CHARS} 个字，你输入了 {len(typed)} 个字，"
        f"只搜索了前 {MAX_QUERY_CHARS} 个字：「{searched}」。"
    )


def results(request: HttpRequest) -> HttpResponse:
    typed = " ".join(request.GET.get("q", "").split())
    # Past the limit the query is cut, and the page says so (the box shows what was searched).
    query = typed[:MAX_QUERY_CHARS].strip()
    # ?exact=1: the query as typed, no correction (the link under corrected results).
    exact = request.GET.get("exact") == "1"
    number = request.GET.get("page", "1")
    if not number.isdigit() or not 1 <= int(number) <= MAX_PAGE:
        raise Http404("页码不对")
    # Only a query is a search: the empty page (the box and a hint) costs nothing.
    if query and _over_search_limit(request):
        return too_many_response(seconds_left(RATE_WINDOW))
    tree = category_tree()
    nodes = [n for root in tree.roots for n in [root, *root.children]]
    category = tree.by_slug.get(request.GET.get("c", ""))
    found = search.search(
        query,
        category_id=category.id if category else None,
        page=int(number),
        per_page=PER_PAGE,
        forgive=not exact,
    )
    if exact and query and found.total < search.FEW_RESULTS:
        found = replace(found, suggestion=search.suggest(query))
    shown = [
        ShownHit(h, f"/a/{h.article_id}.html", tree.by_id.get(h.category_id)) for h in found.hits
    ]
    last_page = min(MAX_PAGE, max(1, -(-found.total // PER_PAGE)))
    in_category = {"c": category.slug} if category else {}
    params = {"q": query, **in_category, **({"exact": "1"} if exact else {})}
    context = {
        "query": query,
        "max_length": MAX_QUERY_CHARS,
        "category": category,
        "category_choices": nodes,
        "results": found,
        "hits": shown,
        "page_links": listings.page_numbers(found.page, last_page) if found.total else [],
        "last_page": last_page,
        "base_query": urlencode(params),
        "suggestion_query": urlencode({"q": found.suggestion, **in_category}),
        "exact_query": urlencode({"q": query, **in_category, "exact": "1"}),
        "notice": _too_long_notice(typed, query) if len(typed) > MAX_QUERY_CHARS else "",
        "message": ""
        if query
        else "输入标题或正文里的词，多个词用空格隔开；加引号搜整句，如“文明城市”。",
        "suggested_categories": [] if found.total else _suggested_categories(query, nodes),
        "most_read": [] if found.total else listings.most_read(10),
        "meta_description": f"{query}相关范文搜索结果" if query else "搜索范文",
    }
    response = render(request, "search/results.html", context)
    response["Cache-Control"] = "private, max-age=60"
    return response
