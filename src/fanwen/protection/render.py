"""Which article page a reader gets: clean text, or body paragraphs drawn by a remapped font.

Every variant is the same for all readers it goes to, so each is cached once per article:
  clean      readers with the right, verified crawlers and staff: the real text
  protected  everyone else at the font level: body paragraphs remapped (see fonts.py)
  open       the js level only: real text, copying intercepted in the browser (never a
             fallback of the font level: a missing font is built before the page goes out)
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest
from django.http.cookie import parse_cookie

from fanwen.accounts.visitors import signed_visitor_id
from fanwen.library.models import Article
from fanwen.protection.access import (
    reader_right,
    remembered_right,
    take_under_pass,
)
from fanwen.protection.crawlers import claimed_crawler, request_is_verified_crawler
from fanwen.protection.fonts import (
    PARAGRAPH_STYLE,
    ArticleFont,
    clean_font_for,
    current_epoch,
    font_face_css,
    font_now,
)

LEVELS = ("js", "font")


@dataclass(frozen=True)
class Rendering:
    variant: str  # "clean" | "protected" | "open"
    cache_name: str | None  # suffix of the page-cache entry; None: render every time
    font: ArticleFont | None = None
    # The clean variant looks its font up only when it has to be rendered (a cache miss).
    font_pending: bool = False

    def resolved(self, article: Article) -> Rendering:
        """This rendering with its font looked up; uncached while the font is being built."""
        if not self.font_pending:
            return self
        font = clean_font_for(article)
        return Rendering(self.variant, self.cache_name if font else None, font)

    @property
    def font_css(self) -> str:
        if self.font is None:
            return ""
        clean = self.variant != "protected"
        family = self.font.clean_family if clean else self.font.family
        # Both variants break lines alike: Chromium keeps runs of PUA characters together.
        rule = f'.piece p.bt{{font-family:"{family}",sans-serif;{PARAGRAPH_STYLE}}}'
        return font_face_css(self.font, clean=clean) + rule

    def obfuscate(self, text: str) -> str:
        return self.font.obfuscate(text) if self.variant == "protected" and self.font else text


def level() -> str:
    return settings.FANWEN_PROTECTION if settings.FANWEN_PROTECTION in LEVELS else "font"


def anonymous_cache_name() -> str:
    """The variant a reader with no cookie and no crawler claim gets (used by the fast path)."""
    return "o" if level() == "js" else f"p{current_epoch()}"


def clean_cache_name(cookie_header: str, article_id: int) -> str | None:
    """The clean variant's cache name for a visitor whose right is remembered, else None.

    For the WSGI fast path: no request object, no database; anything unsure goes to Django.
    """
    if level() == "js":
        return None
    visitor_id = signed_visitor_id(parse_cookie(cookie_header))
    if visitor_id is None:
        return None
    right = remembered_right(f"v:{visitor_id}", article_id)
    # A pass counts articles a day: that bookkeeping stays on Django's path.
    if right is None or right.kind != "article":
        return None
    return f"c{current_epoch()}"


def may_differ(request: HttpRequest) -> bool:
    """Whether this reader might get another variant than the anonymous one."""
    user_agent = request.META.get("HTTP_USER_AGENT", "")
    return _may_hold_right(request) or claimed_crawler(user_agent) is not None


def _may_hold_right(request: HttpRequest) -> bool:
    # Only a reader with a visitor cookie or a login can hold a right: others skip the query.
    cookies = request.COOKIES
    return settings.FANWEN_VISITOR_COOKIE in cookies or settings.SESSION_COOKIE_NAME in cookies


def rendering_for(request: HttpRequest, article: Article, *, staff: bool) -> Rendering:
    if level() == "js":
        return Rendering("open", "o")
    epoch = current_epoch()
    if staff:
        return Rendering("clean", None, clean_font_for(article))
    clean = request_is_verified_crawler(request)
    if not clean and _may_hold_right(request):
        right = reader_right(request, article)
        # A pass over its daily cap reads the page as everyone does.
        clean = right.allowed and take_under_pass(right, article)
    if clean:
        # Served from the page cache when there (views.article looks it up before rendering).
        return Rendering("clean", f"c{epoch}", None, font_pending=True)
    # Built here when missing, never served clean meanwhile; None: no body text to remap.
    return Rendering("protected", f"p{epoch}", font_now(article))
