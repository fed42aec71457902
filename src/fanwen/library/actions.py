"""Writes to the library that touch several rows: importing, publishing, categories."""

from __future__ import annotations

import hashlib
import re

from django.db import transaction
from django.db.models import Q
from django.utils.text import slugify

from fanwen.library import bulk
from fanwen.library.importer import ParsedArticle, dedup
from fanwen.library.models import Article, Category, Piece

UNCATEGORIZED = "未分类"
_SLUG_OK = re.compile(r"^[-a-zA-Z0-9_]+$")


def do_import_article(
    parsed: ParsedArticle,
    *,
    category: Category,
    publish: bool,
    source_key: str,
    editor_name: str = "",
) -> tuple[Article, bool]:
    """Store a parsed file as an article; re-importing the same source updates it in place.

    Returns (article, created). The same source is the same `source_key`, or else an article
    of the same title in the same category whose key is empty or the same path seen from
    another folder level; an article from a different file is never overwritten.
    """
    # coalesced(): one search outbox row and one page purge for the article and all its
    # pieces, written in this transaction, instead of one of each per saved row.
    with transaction.atomic(), bulk.coalesced():
        article = _existing_article(parsed, category, source_key)
        created = article is None
        if article is None:
            article = Article(category=category)
        else:
            article.content_version += 1
        signatures = [dedup.signed(piece.text) for piece in parsed.pieces]
        within = dedup.find_within(signatures)
        article.category = category
        article.title = parsed.title[:200]
        article.intro = parsed.intro
        article.editor_name = (editor_name or parsed.editor_name)[:40]
        article.source_format = parsed.source_format
        article.source_key = source_key[:64]
        # The article's own old pieces are about to be replaced: never match against them.
        in_library = dedup.find_in_library(signatures, exclude_article_id=article.pk)
        # (优秀N篇) counts what the reader finds nowhere else: copies of an earlier piece, or of
        # another article's, are shown but not counted.
        article.piece_count = sum(
            1
            for same, other in zip(within, in_library, strict=True)
            if same is None and other is None
        )
        if publish:
            # Article.publish keeps the first published_at of an article already out.
            article.publish()
        article.save()

        old = {piece.position: piece for piece in article.pieces.all()} if not created else {}
        pieces: list[Piece] = []
        copies: list[tuple[Piece, int]] = []  # (piece, index of the earlier piece it copies)
        for position, (parsed_piece, sig) in enumerate(
            zip(parsed.pieces, signatures, strict=True), 1
        ):
            # Rows are reused by position so near_copies pointing here from other articles stay.
            piece = old.pop(position, None) or Piece(article=article, position=position)
            piece.title = parsed_piece.title[:200]
            piece.blocks = parsed_piece.blocks
            piece.text = parsed_piece.text
            piece.placeholders = parsed_piece.placeholders
            piece.simhash = sig.simhash
            for name, value in zip(
                dedup.BAND_FIELDS, sig.bands or [None] * dedup.BANDS, strict=True
            ):
                setattr(piece, name, value)
            same_article = within[position - 1]
            library_match = in_library[position - 1]
            piece.duplicate_of = None
            if same_article is not None:
                copies.append((piece, same_article[0]))
            elif library_match is not None:
                piece.duplicate_of_id = library_match.piece_id
            pieces.append(piece)
        # Kept rows are saved one by one (their save signals run, gathered above); new rows
        # go in one INSERT, which coalesced() stands in for the signals of.
        for piece in pieces:
            if piece.pk is not None:
                piece.save()
        Piece.objects.bulk_create([piece for piece in pieces if piece.pk is None])
        if copies:
            # A copy of an earlier piece of this article points at it once both rows exist.
            for piece, index in copies:
                piece.duplicate_of = pieces[index]
            Piece.objects.bulk_update([piece for piece, _ in copies], ["duplicate_of"])
        if old:
            Piece.objects.filter(pk__in=[piece.pk for piece in old.values()]).delete()
    return article, created


def _existing_article(parsed: ParsedArticle, category: Category, source_key: str) -> Article | None:
    source_key = source_key[:64]
    title = parsed.title[:200]
    # One locked read for both ways of being the same article (the key, then the title).
    match = Q(category=category, title=title)
    if source_key:
        match |= Q(source_key=source_key)
    rows = list(Article.objects.select_for_update().filter(match))
    if source_key:
        # In the model's order (newest first), as .first() on the key alone picked.
        for article in rows:
            if article.source_key == source_key:
                return article
    # Same title in the same category: an article made by hand (no key), or the same file
    # named from another folder level ("作文/a.txt" vs "批次/作文/a.txt"). One that another
    # file owns is a different article that happens to share the title.
    for article in sorted(rows, key=lambda row: row.pk):
        if article.category_id != category.pk or article.title != title:
            continue
        if not article.source_key or _same_source(article.source_key, source_key):
            return article
    return None


def _same_source(a: str, b: str) -> bool:
    return bool(a and b) and (a == b or a.endswith("/" + b) or b.endswith("/" + a))


def do_publish_article(article: Article, when=None) -> Article:
    """Out now, or 定时发布 when `when` is still to come (the worker publishes it then).

    The save's signals queue the search index, purge the page caches and build the font.
    """
    with transaction.atomic():
        article = Article.objects.select_for_update().get(pk=article.pk)
        article.publish(when)
        article.save(update_fields=["status", "published_at", "updated_at"])
    return article


def do_hide_article(article: Article) -> Article:
    """Out of lists, search and the sitemap at once: the save's signals purge the caches
    and queue the removal from the index."""
    with transaction.atomic():
        article = Article.objects.select_for_update().get(pk=article.pk)
        article.status = Article.Status.HIDDEN
        article.save(update_fields=["status", "updated_at"])
    return article


def _unique_slug(name: str) -> str:
    base = slugify(name)[:50] or "c-" + hashlib.sha1(name.encode("utf-8")).hexdigest()[:8]
    slug, n = base, 2
    while Category.objects.filter(slug=slug).exists():
        slug = f"{base}-{n}"
        n += 1
    return slug


def do_get_or_create_category(slug_or_name: str, parent: Category | None = None) -> Category:
    """The category with this slug or name, created (under `parent`) if there is none."""
    value = slug_or_name.strip()[:50] or UNCATEGORIZED
    found = Category.objects.filter(slug=value).first() or (
        Category.objects.filter(name=value, parent=parent).order_by("position", "pk").first()
        or Category.objects.filter(name=value).order_by("position", "pk").first()
    )
    if found is not None:
        return found
    slug = (
        value
        if _SLUG_OK.match(value) and not Category.objects.filter(slug=value).exists()
        else None
    )
    return Category.objects.create(name=value, slug=slug or _unique_slug(value), parent=parent)


def do_get_or_create_category_path(names: list[str]) -> Category:
    """The last category of a breadcrumb trail like ["总结", "工作总结"], creating what is missing."""
    names = [name.strip() for name in names if name.strip()] or [UNCATEGORIZED]
    # An existing category of that name wins wherever an editor has moved it in the tree.
    found = Category.objects.filter(name=names[-1][:50]).order_by("position", "pk").first()
    if found is not None:
        return found
    parent: Category | None = None
    for name in names:
        parent = do_get_or_create_category(name, parent)
    assert parent is not None
    return parent


# --- the editor's desk: edit, drop, merge, schedule -----------------------------------------


class EditRefused(ValueError):
    """An edit that would leave the article broken; str(exc) is shown to the editor."""


def _locked_article(article_id: int) -> Article:
    return Article.objects.select_for_update().get(pk=article_id)


def _set_piece_content(piece: Piece, blocks: list[dict]) -> None:
    """Blocks and everything import derives from them: text, placeholders, signature."""
    from fanwen.library.importer.placeholders import find_placeholders

    piece.blocks = blocks
    piece.text = "\n".join(block["text"] for block in blocks)
    piece.placeholders = find_placeholders(piece.text)
    for name, value in dedup.signature_fields(piece.text).items():
        setattr(piece, name, value)


def _refresh_duplicates(article: Article) -> None:
    """duplicate_of of every piece (within the article first, then the library) and the N of
    (优秀N篇), as import sets them; only changed rows are written."""
    pieces = list(article.pieces.order_by("position"))
    signatures = [dedup.signature(piece.text) for piece in pieces]
    within = dedup.find_within(signatures)
    in_library = dedup.find_in_library(signatures, exclude_article_id=article.pk)
    for piece, same, other in zip(pieces, within, in_library, strict=True):
        wanted = pieces[same[0]].pk if same is not None else (other.piece_id if other else None)
        if piece.duplicate_of_id != wanted:
            piece.duplicate_of_id = wanted
            piece.save(update_fields=["duplicate_of"])
    article.piece_count = sum(1 for piece in pieces if piece.duplicate_of_id is None)


def _recheck_copies_of(piece: Piece) -> None:
    # Pieces of other articles flagged as copies of this one may no longer be after an edit.
    freed: set[int] = set()
    for copy in piece.near_copies.exclude(article_id=piece.article_id)[:200]:
        if dedup.similarity(copy.text, piece.text) < dedup.SIMILARITY:
            copy.duplicate_of = None
            copy.save(update_fields=["duplicate_of"])
            freed.add(copy.article_id)
    # A piece no longer a copy counts again in its own article's (优秀N篇).
    for article in Article.objects.select_for_update().filter(pk__in=freed):
        article.piece_count = article.count_distinct_pieces()
        article.save(update_fields=["piece_count", "updated_at"])


def _save_changed(article: Article, *, content: bool) -> None:
    if content:
        # The protection font (and its cache key) follow the version: an edit rebuilds it.
        article.content_version += 1
    article.save(update_fields=["piece_count", "content_version", "updated_at"])


def do_edit_piece(piece: Piece, *, title: str, text: str) -> Piece:
    """Save a piece edited as plain text (edit_text rules); re-runs what import runs."""
    from django.conf import settings

    from fanwen.library.importer.edit_text import text_to_blocks

    blocks = text_to_blocks(text)
    if not blocks:
        raise EditRefused("正文不能为空：要去掉这一篇，请用「删除此篇」")
    # The importer's bound: no essay has more paragraphs, and storing them would not pay.
    if len(blocks) > settings.FANWEN_IMPORT_MAX_PARAGRAPHS:
        raise EditRefused(f"段落过多：超过每篇 {settings.FANWEN_IMPORT_MAX_PARAGRAPHS} 段的上限")
    with transaction.atomic():
        article = _locked_article(piece.article_id)
        piece = Piece.objects.select_for_update().get(pk=piece.pk)
        piece.title = title.strip()[:200]
        _set_piece_content(piece, blocks)
        piece.save()
        _refresh_duplicates(article)
        _recheck_copies_of(piece)
        _save_changed(article, content=True)
        piece.refresh_from_db()
    return piece


def do_update_article(article: Article, *, title: str, category: Category, intro: str) -> Article:
    title = title.strip()[:200]
    if not title:
        raise EditRefused("标题不能为空")
    with transaction.atomic():
        article = _locked_article(article.pk)
        article.title = title
        article.category = category
        article.intro = intro.strip()
        article.save(update_fields=["title", "category", "intro", "updated_at"])
    return article


def _renumber(article: Article) -> None:
    # Ascending, one row at a time: each move goes to a slot the previous one freed.
    for position, piece in enumerate(article.pieces.order_by("position"), 1):
        if piece.position != position:
            piece.position = position
            piece.save(update_fields=["position"])


def do_drop_piece(piece: Piece) -> Article:
    with transaction.atomic():
        article = _locked_article(piece.article_id)
        if article.pieces.count() <= 1:
            raise EditRefused("这是文章唯一的一篇，不能删除")
        Piece.objects.filter(pk=piece.pk).delete()
        _renumber(article)
        _refresh_duplicates(article)
        _save_changed(article, content=True)
    return article


def do_merge_pieces(first: Piece, second: Piece) -> Piece:
    """Append `second`'s blocks to `first` (the piece before it) and drop `second`."""
    if first.article_id != second.article_id or first.pk == second.pk:
        raise EditRefused("只能合并同一篇文章里的两篇")
    with transaction.atomic():
        article = _locked_article(first.article_id)
        first = Piece.objects.select_for_update().get(pk=first.pk)
        second = Piece.objects.select_for_update().get(pk=second.pk)
        heading = [{"kind": "h1", "text": second.title}] if second.title else []
        _set_piece_content(first, [*first.blocks, *heading, *second.blocks])
        first.save()
        Piece.objects.filter(pk=second.pk).delete()
        _renumber(article)
        _refresh_duplicates(article)
        _recheck_copies_of(first)
        _save_changed(article, content=True)
        first.refresh_from_db()
    return first


def do_draft_article(article: Article) -> Article:
    """Back to 草稿 (also cancels a schedule): out of every list like a hidden article."""
    with transaction.atomic():
        article = _locked_article(article.pk)
        article.status = Article.Status.DRAFT
        article.save(update_fields=["status", "updated_at"])
    return article


def publish_scheduled(limit: int = 200) -> dict[str, int]:
    """Worker job: publish the 定时发布 articles whose time has come, through
    do_publish_article so the index, the page caches and the font follow at that moment.
    Returns a Counter of what it did."""
    # Imported here: the top of this module belongs to the import path.
    from collections import Counter

    from django.db import connection
    from django.utils import timezone

    counts: Counter = Counter()
    due = Article.objects.filter(
        status=Article.Status.SCHEDULED, published_at__lte=timezone.now()
    ).order_by("published_at", "pk")
    for article_id in list(due.values_list("pk", flat=True)[:limit]):
        with transaction.atomic():
            claim = Article.objects.filter(pk=article_id, status=Article.Status.SCHEDULED)
            if connection.features.has_select_for_update_skip_locked:
                # Another worker holding the row publishes it; this one moves on.
                claim = claim.select_for_update(skip_locked=True)
            article = claim.first()
            if article is None:
                counts["skipped"] += 1
                continue
            do_publish_article(article)
            counts["published"] += 1
    return counts
