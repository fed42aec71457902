"""The category tree, loaded with two queries and kept per process until the next edit.

Readers see only categories with a published article (in them or below them): a category
created by a draft import stays out of the menu, the lists and the sitemap, and its page is
a 404, until something in it is published.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Exists, Min, OuterRef
from django.utils import timezone

from fanwen.library import pagecache
from fanwen.library.models import Article, Category


@dataclass
class Node:
    id: int
    parent_id: int | None
    name: str
    slug: str
    description: str
    url: str
    # Public children only: the menus and lists walk these.
    children: list[Node] = field(default_factory=list)
    # A published article is filed here or in a category below.
    public: bool = False


class CategoryTree:
    """Every category by id and slug (breadcrumbs of a staff preview need hidden ones too);
    `roots` and `children` hold the public ones only."""

    def __init__(self, categories: list[Category], with_published: set[int] | None = None) -> None:
        self.by_id = {
            c.pk: Node(c.pk, c.parent_id, c.name, c.slug, c.description, c.get_absolute_url())
            for c in categories
        }
        self.by_slug = {n.slug: n for n in self.by_id.values()}
        self.roots: list[Node] = []
        for category_id in self.by_id if with_published is None else with_published:
            for node in (
                self.ancestors(self.by_id[category_id]) if category_id in self.by_id else []
            ):
                node.public = True
        # `categories` come ordered by position, so children lists keep that order.
        for node in self.by_id.values():
            if not node.public:
                continue
            parent = self.by_id.get(node.parent_id) if node.parent_id else None
            (parent.children if parent else self.roots).append(node)

    def public_ids(self) -> list[int]:
        return [node.id for node in self.by_id.values() if node.public]

    def ancestors(self, node: Node) -> list[Node]:
        """Root first, `node` last: the breadcrumb trail."""
        trail: list[Node] = []
        current: Node | None = node
        while current is not None and len(trail) < 20:
            trail.append(current)
            current = self.by_id.get(current.parent_id) if current.parent_id else None
        return trail[::-1]

    def descendant_ids(self, node: Node) -> list[int]:
        ids, stack = [], [node]
        while stack and len(ids) < 10000:
            current = stack.pop()
            ids.append(current.id)
            stack.extend(current.children)
        return ids


# (generation, tree, when a scheduled article goes live and the tree must be rebuilt)
_memo: tuple[int, CategoryTree, datetime | None] | None = None


def load_tree() -> tuple[CategoryTree, datetime | None]:
    now = timezone.now()
    live = Article.objects.published().filter(category_id=OuterRef("pk"))
    categories = list(Category.objects.annotate(live=Exists(live)))
    next_due = Article.objects.filter(
        status=Article.Status.PUBLISHED, published_at__gt=now
    ).aggregate(due=Min("published_at"))["due"]
    return CategoryTree(categories, {c.pk for c in categories if c.live}), next_due


def category_tree(refresh: bool = False) -> CategoryTree:
    global _memo
    gen = pagecache.generation()
    memo = _memo
    stale = memo is None or memo[0] != gen or (memo[2] is not None and memo[2] <= timezone.now())
    if refresh or stale:
        memo = (gen, *load_tree())
        _memo = memo
    return memo[1]
