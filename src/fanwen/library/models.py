"""The content model: a category tree, articles, and the pieces (篇一…篇N) inside them."""

from __future__ import annotations

import re

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.urls import reverse
from django.utils import timezone

CN_NUMERALS = "一二三四五六七八九十"
# Word's 字数: each Chinese character is one, each run of Latin letters or digits is one
# ("2024年" is 2, "Python培训" is 3); punctuation and spaces are none.
_CJK_CHAR = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
_LATIN_WORD = re.compile(r"[A-Za-z0-9\u00c0-\u024f]+(?:['’.\-][A-Za-z0-9\u00c0-\u024f]+)*")


def count_words(text: str) -> int:
    """The 字数 Word shows for `text`: Chinese characters plus Latin words and numbers."""
    return len(_CJK_CHAR.findall(text)) + len(_LATIN_WORD.findall(text))


def cn_ordinal(n: int) -> str:
    """1 -> 一, 12 -> 十二, 25 -> 二十五 (enough for piece numbers)."""
    if n <= 10:
        return CN_NUMERALS[n - 1]
    tens, ones = divmod(n, 10)
    head = "" if tens == 1 else CN_NUMERALS[tens - 1]
    return head + "十" + (CN_NUMERALS[ones - 1] if ones else "")


class UnicodeJSONEncoder(DjangoJSONEncoder):
    """Stores Chinese as UTF-8 in JSON text columns: \\uXXXX escapes would double their size."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs["ensure_ascii"] = False
        super().__init__(*args, **kwargs)


class Category(models.Model):
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        related_name="children",
        on_delete=models.PROTECT,
        verbose_name="上级分类",
    )
    name = models.CharField("名称", max_length=50)
    slug = models.SlugField("网址名", max_length=60, unique=True)
    position = models.PositiveIntegerField("排序", default=0)
    description = models.CharField("简介", max_length=200, blank=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = "分类"
        verbose_name_plural = "分类"

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("library:category", args=[self.slug])

    def ancestors(self) -> list[Category]:
        """Root first, this category last — the breadcrumb trail."""
        trail: list[Category] = []
        node: Category | None = self
        while node is not None and len(trail) < 20:
            trail.append(node)
            node = node.parent
        return list(reversed(trail))

    def descendant_ids(self) -> list[int]:
        ids, frontier = [self.pk], [self.pk]
        while frontier:
            frontier = list(
                Category.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)
            )
            ids.extend(frontier)
        return ids


class ArticleQuerySet(models.QuerySet):
    def published(self) -> ArticleQuerySet:
        return self.filter(status=Article.Status.PUBLISHED, published_at__lte=timezone.now())


class Article(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        # Published with a time still to come: shown nowhere until the worker publishes it.
        SCHEDULED = "scheduled", "定时发布"
        PUBLISHED = "published", "已发布"
        HIDDEN = "hidden", "已隐藏"

    class SourceFormat(models.TextChoices):
        DOCX = "docx", "DOCX"
        DOC = "doc", "DOC"
        TXT = "txt", "TXT"
        MD = "md", "Markdown"
        HTML = "html", "HTML"
        MANUAL = "manual", "手工录入"

    category = models.ForeignKey(
        Category, related_name="articles", on_delete=models.PROTECT, verbose_name="分类"
    )
    title = models.CharField("标题", max_length=200)
    slug = models.SlugField("网址名", max_length=80, blank=True)
    intro = models.TextField("导语", blank=True)
    editor_name = models.CharField("小编", max_length=40, blank=True)
    source_format = models.CharField(
        "来源格式", max_length=10, choices=SourceFormat.choices, default=SourceFormat.DOCX
    )
    # Identifies the imported file so a re-import updates this article instead of adding one.
    source_key = models.CharField("来源标识", max_length=64, blank=True, db_index=True)
    status = models.CharField(
        "状态", max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    published_at = models.DateTimeField("发布时间", null=True, blank=True, db_index=True)
    content_version = models.PositiveIntegerField("内容版本", default=1)
    # Distinct pieces (near-duplicates not counted): the N of "(优秀N篇)".
    piece_count = models.PositiveIntegerField("篇数", default=0)
    view_count = models.PositiveIntegerField("阅读数", default=0, db_index=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-id"]
        verbose_name = "文章"
        verbose_name_plural = "文章"
        indexes = [
            models.Index(fields=["category", "status", "-published_at"]),
            models.Index(fields=["status", "-view_count"]),
            # An import looks its article up by title within the category: one index probe,
            # not a walk over every article of a large category.
            models.Index(fields=["category", "title"]),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        now = timezone.now()
        touched = []
        # 已发布 with no time would be published yet shown nowhere: an empty time means now.
        if self.status in (self.Status.PUBLISHED, self.Status.SCHEDULED) and (
            self.published_at is None
        ):
            self.published_at = now
            touched.append("published_at")
        # The status says what readers see: a time to come is 定时发布, a time past is 已发布
        # (the worker's publish_scheduled moves the first to the second when it is due).
        if self.status == self.Status.PUBLISHED and self.published_at > now:
            self.status = self.Status.SCHEDULED
            touched.append("status")
        elif self.status == self.Status.SCHEDULED and self.published_at <= now:
            self.status = self.Status.PUBLISHED
            touched.append("status")
        fields = kwargs.get("update_fields")
        if fields is not None and touched:
            kwargs["update_fields"] = list(dict.fromkeys([*fields, *touched]))
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("library:article", args=[self.pk])

    @property
    def display_title(self) -> str:
        """The title as the page shows it: with "(优秀N篇)" when there is more than one piece."""
        if self.piece_count > 1:
            return f"{self.title}(优秀{self.piece_count}篇)"
        return self.title

    @property
    def is_public(self) -> bool:
        return (
            self.status == self.Status.PUBLISHED
            and self.published_at is not None
            and self.published_at <= timezone.now()
        )

    @property
    def is_scheduled(self) -> bool:
        return self.status == self.Status.SCHEDULED

    def publish(self, when=None) -> None:
        """Out now (keeping the first time of an article already out) or, with a time to
        come, 定时发布 at that time; save() settles the status from the time."""
        now = timezone.now()
        if when is not None:
            self.published_at = when
        elif self.published_at is None or self.published_at > now:
            # "Now" on a scheduled article brings it forward; a time already past is kept
            # (an article hidden and shown again keeps its first publication time).
            self.published_at = now
        self.status = self.Status.SCHEDULED if self.published_at > now else self.Status.PUBLISHED

    def body_paragraphs(self) -> list[str]:
        """The texts of the body paragraphs of every piece, in order: what protection guards
        (titles, the intro and headings are free)."""
        return [text for piece in self.pieces.all() for text in piece.paragraphs()]

    def count_distinct_pieces(self) -> int:
        """Pieces that are not a near-copy of an earlier piece, here or in another article."""
        return sum(1 for piece in self.pieces.all() if piece.duplicate_of_id is None)


class Piece(models.Model):
    article = models.ForeignKey(
        Article, related_name="pieces", on_delete=models.CASCADE, verbose_name="文章"
    )
    position = models.PositiveIntegerField("序号")
    title = models.CharField("篇名", max_length=200, blank=True)
    # [{"kind": "h1|h2|h3|p", "text": "..."}]: every rendering (HTML, DOCX, copy, search) starts here.
    blocks = models.JSONField("内容块", default=list, encoder=UnicodeJSONEncoder)
    text = models.TextField("纯文本", blank=True)
    # [{"start": int, "end": int, "kind": "...", "text": "..."}] offsets into `text`.
    placeholders = models.JSONField("占位符", default=list, blank=True, encoder=UnicodeJSONEncoder)
    simhash = models.BigIntegerField("近似指纹", default=0, db_index=True)
    # MinHash bands of the text (importer/dedup.py): pieces that share one are compared, so
    # the near-duplicate lookup is a few index probes instead of a scan of the library.
    dup_band_0 = models.BigIntegerField(null=True, blank=True, db_index=True, editable=False)
    dup_band_1 = models.BigIntegerField(null=True, blank=True, db_index=True, editable=False)
    dup_band_2 = models.BigIntegerField(null=True, blank=True, db_index=True, editable=False)
    dup_band_3 = models.BigIntegerField(null=True, blank=True, db_index=True, editable=False)
    dup_band_4 = models.BigIntegerField(null=True, blank=True, db_index=True, editable=False)
    dup_band_5 = models.BigIntegerField(null=True, blank=True, db_index=True, editable=False)
    dup_band_6 = models.BigIntegerField(null=True, blank=True, db_index=True, editable=False)
    dup_band_7 = models.BigIntegerField(null=True, blank=True, db_index=True, editable=False)
    duplicate_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        related_name="near_copies",
        on_delete=models.SET_NULL,
        verbose_name="近似重复于",
    )

    class Meta:
        ordering = ["article", "position"]
        unique_together = [("article", "position")]
        verbose_name = "篇"
        verbose_name_plural = "篇"

    def __str__(self) -> str:
        return self.title or f"篇{cn_ordinal(self.position)}"

    @property
    def label(self) -> str:
        return f"篇{cn_ordinal(self.position)}"

    @property
    def anchor(self) -> str:
        return f"p{self.position}"

    def paragraphs(self) -> list[str]:
        """The texts of this piece's body paragraphs (blocks of kind "p")."""
        return [
            block["text"]
            for block in self.blocks or []
            if isinstance(block, dict) and block.get("kind") == "p" and block.get("text")
        ]
