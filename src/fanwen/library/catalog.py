"""The category tree, loaded with one query and kept per process until the next edit."""

from __future__ import annotations

from dataclasses import dataclass, field

from fanwen.library import pagecache
from fanwen.library.models import Category


@dataclass
class Node:
    id: int
    parent_id: int | None
    name: str
    slug: str
    description: str
    url: str
    children: list[Node] = field(default_factory=list)


class CategoryTree:
    def __init__(self, categories: list[Category]) -> None:
        self.by_id = {
            c.pk: Node(c.pk, c.parent_id, c.name, c.slug, c.description, c.get_absolute_url())
            for c in categories
        }
        self.by_slug = {n.slug: n for n in self.by_id.values()}
        self.roots: list[Node] = []
        # `categories` come ordered by position, so children lists keep that order.
        for node in self.by_id.values():
            parent = self.by_id.get(node.parent_id) if node.parent_id else None
            (parent.children if parent else self.roots).append(node)

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


_memo: tuple[int, CategoryTree] | None = None


def category_tree(refresh: bool = False) -> CategoryTree:
    global _memo
    gen = pagecache.generation()
    memo = _memo
    if refresh or memo is None or memo[0] != gen:
        memo = (gen, CategoryTree(list(Category.objects.all())))
        _memo = memo
    return memo[1]
