"""Load the demo library: categories, the demo articles (through the importer), a staff user."""

from __future__ import annotations

import json
import secrets
import zlib
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models.functions import Greatest
from django.utils import timezone

from fanwen import search
from fanwen.library import pagecache
from fanwen.library.actions import do_import_article
from fanwen.library.importer import parse_file
from fanwen.library.models import Article, Category

DEMO_DIR = Path(__file__).resolve().parent
EDITOR_USERNAME = "editor"
# Demo articles are published over the last ~90 days, newest first in file order.
SPREAD_DAYS = 88


def category_specs() -> list[dict]:
    return json.loads((DEMO_DIR / "categories.json").read_text(encoding="utf-8"))


def ensure_categories() -> dict[str, Category]:
    """Create or update the demo categories (parents before children); returns them by slug."""
    by_slug: dict[str, Category] = {}
    pending = category_specs()
    # Parents may be listed after their children: keep passing until every parent exists.
    while pending:
        waiting = []
        for spec in pending:
            parent_slug = spec.get("parent")
            if parent_slug and parent_slug not in by_slug:
                waiting.append(spec)
                continue
            category, _ = Category.objects.update_or_create(
                slug=spec["slug"],
                defaults={
                    "name": spec["name"],
                    "parent": by_slug.get(parent_slug) if parent_slug else None,
                    "position": spec.get("position", 0),
                    "description": spec.get("description", ""),
                },
            )
            by_slug[category.slug] = category
        if len(waiting) == len(pending):
            raise ValueError(f"categories.json: unknown parent in {[s['slug'] for s in waiting]}")
        pending = waiting
    return by_slug


def demo_files() -> list[tuple[str, Path]]:
    """(category slug, file) for every demo article, in a stable order."""
    return [(path.parent.name, path) for path in sorted(DEMO_DIR.glob("*/*.txt"))]


def initial_views(source_key: str) -> int:
    """A fixed view count per demo article, so "most read" has an order before anyone reads."""
    # crc32, not hash(): the same on every run and every machine.
    spread = zlib.crc32(source_key.encode("utf-8"))
    return 40 + spread % 2400 + (spread >> 16) % 7 * 300


@dataclass
class DemoResult:
    created: int = 0
    updated: int = 0
    articles: list[Article] = field(default_factory=list)


def load_demo() -> DemoResult:
    """Import every demo file (re-running updates the same articles) and date them."""
    categories = ensure_categories()
    result = DemoResult()
    files = demo_files()
    now = timezone.now()
    for index, (slug, path) in enumerate(files):
        if slug not in categories:
            raise ValueError(f"{path}: folder {slug!r} is not in categories.json")
        parsed = parse_file(path)
        source_key = f"demo:{slug}/{path.name}"
        article, created = do_import_article(
            parsed,
            category=categories[slug],
            publish=True,
            source_key=source_key,
            editor_name=parsed.editor_name,
        )
        result.created += created
        result.updated += not created
        # A fixed stride through the window spreads the dates without randomness.
        published_at = now - timedelta(
            days=1 + index * 37 % SPREAD_DAYS, hours=index * 7 % 24, minutes=index * 13 % 60
        )
        with transaction.atomic():
            # update(): no save signals per row; one page-cache purge at the end is enough.
            Article.objects.filter(pk=article.pk).update(
                published_at=published_at,
                view_count=Greatest("view_count", initial_views(source_key)),
            )
            # update() sends no signal: the search index must learn the new date too.
            search.index_article(article.pk)
        article.refresh_from_db()
        result.articles.append(article)
    pagecache.purge_all()
    return result


def ensure_editor(username: str = EDITOR_USERNAME) -> str:
    """Create or reset the staff superuser with a fresh random password; returns the password."""
    password = secrets.token_urlsafe(9)
    user_model = get_user_model()
    user, _ = user_model.objects.get_or_create(username=username)
    user.is_staff = True
    user.is_superuser = True
    user.is_active = True
    user.set_password(password)
    user.save()
    return password
