"""The editor's desk for one article: the parse as the reader will see it, fixed and published.

Every change goes through fanwen.library.actions (do_update_article, do_drop_piece,
do_merge_pieces, do_edit_piece, do_publish_article, do_hide_article, do_draft_article), so
the search index, the page caches and the protection font follow as they do on import.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from difflib import SequenceMatcher

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from fanwen.library.actions import (
    EditRefused,
    do_draft_article,
    do_drop_piece,
    do_edit_piece,
    do_hide_article,
    do_merge_pieces,
    do_publish_article,
    do_update_article,
)
from fanwen.library.importer import dedup
from fanwen.library.importer.edit_text import HELP, blocks_to_text, text_to_blocks
from fanwen.library.importer.placeholders import PLACEHOLDER_GROUPS, find_placeholders
from fanwen.library.models import Article, Category, Piece
from fanwen.staff.access import staff_required

PER_PAGE = 30
LEVEL_NAMES = {"h1": "一级标题", "h2": "二级标题", "h3": "三级标题"}
STATUS_FILTERS = [
    ("", "全部"),
    (Article.Status.DRAFT, "草稿"),
    (Article.Status.SCHEDULED, "定时"),
    (Article.Status.PUBLISHED, "已发布"),
    (Article.Status.HIDDEN, "已隐藏"),
]


# --- forms --------------------------------------------------------------------------------


class ArticleForm(forms.Form):
    title = forms.CharField(label="标题", max_length=200)
    intro = forms.CharField(label="导语", required=False, widget=forms.Textarea(attrs={"rows": 3}))


class CategoryForm(forms.Form):
    category = forms.ModelChoiceField(
        label="分类", queryset=Category.objects.order_by("position", "pk"), empty_label=None
    )


class ScheduleForm(forms.Form):
    when = forms.DateTimeField(
        label="发布时间",
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def clean_when(self):
        when = self.cleaned_data["when"]
        if when <= timezone.now():
            raise forms.ValidationError("定时发布的时间要晚于现在；要马上上线请点「立即发布」")
        return when


class PieceForm(forms.Form):
    title = forms.CharField(label="篇名", max_length=200, required=False)
    body = forms.CharField(
        label="正文",
        help_text=HELP,
        widget=forms.Textarea(attrs={"rows": 24, "class": "piece-text", "spellcheck": "false"}),
    )

    def clean_body(self) -> str:
        body = self.cleaned_data["body"]
        if not text_to_blocks(body):
            raise forms.ValidationError("正文不能为空")
        return body


# --- what the preview shows ---------------------------------------------------------------


@dataclass
class Segment:
    text: str
    placeholder: str = ""  # the question a fill-in form asks for it ("年份"), or "" for text
    changed: bool = False  # differs from the piece shown beside it


@dataclass
class ShownBlock:
    kind: str
    level_name: str
    segments: list[Segment]


@dataclass
class ShownPiece:
    piece: Piece
    blocks: list[ShownBlock]
    placeholder_count: int = 0
    # The piece this one nearly copies, shown beside it.
    original: ShownPiece | None = None
    original_article: Article | None = None
    same_article: bool = False
    similarity: int = 0  # percent
    copies: list[Piece] = field(default_factory=list)  # later pieces of this article like it


# Beyond this many characters a side-by-side pair is shown without the changes marked
# (SequenceMatcher is quadratic at worst).
DIFF_CHARS = 20000


def _visible(piece: Piece) -> list[dict]:
    return [b for b in piece.blocks or [] if isinstance(b, dict) and b.get("text")]


def _joined(piece: Piece) -> str:
    return "\n".join(b["text"] for b in _visible(piece))


def changed_offsets(a: str, b: str) -> tuple[set[int], set[int]]:
    """Offsets of the characters of `a` and of `b` that the other text does not share."""
    if len(a) + len(b) > DIFF_CHARS:
        return set(), set()
    ours, theirs = set(), set()
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag != "equal":
            ours.update(range(i1, i2))
            theirs.update(range(j1, j2))
    return ours, theirs


def shown_blocks(piece: Piece, changed: set[int] | None = None) -> tuple[list[ShownBlock], int]:
    """The piece's blocks cut into segments: placeholders marked, and the characters that
    differ from a piece shown beside it (`changed`, offsets into the joined text)."""
    blocks = _visible(piece)
    text = "\n".join(b["text"] for b in blocks)
    spans = piece.placeholders if text == piece.text else find_placeholders(text)
    label = [""] * len(text)
    for span in spans:
        for at in range(span["start"], min(span["end"], len(text))):
            label[at] = PLACEHOLDER_GROUPS.get(span["kind"], "其他")
    changed = changed or set()
    shown, start = [], 0
    for block in blocks:
        end = start + len(block["text"])
        segments: list[Segment] = []
        for at in range(start, end):
            key = (label[at], at in changed)
            if segments and (segments[-1].placeholder, segments[-1].changed) == key:
                segments[-1].text += text[at]
            else:
                segments.append(Segment(text[at], *key))
        kind = block.get("kind") if block.get("kind") in LEVEL_NAMES else "p"
        shown.append(ShownBlock(kind, LEVEL_NAMES.get(kind, ""), segments))
        start = end + 1
    return shown, len(spans)


def _shown(piece: Piece) -> ShownPiece:
    blocks, count = shown_blocks(piece)
    return ShownPiece(piece, blocks, count)


def preview_pieces(article: Article) -> list[ShownPiece]:
    pieces = list(article.pieces.order_by("position"))
    by_id = {p.pk: p for p in pieces}
    shown = [_shown(p) for p in pieces]
    others = {
        p.pk: p
        for p in Piece.objects.select_related("article").filter(
            pk__in=[p.duplicate_of_id for p in pieces if p.duplicate_of_id not in (None, *by_id)]
        )
    }
    for item in shown:
        piece = item.piece
        if piece.duplicate_of_id is None:
            continue
        original = by_id.get(piece.duplicate_of_id) or others.get(piece.duplicate_of_id)
        if original is None:
            continue
        ours, theirs = changed_offsets(_joined(piece), _joined(original))
        item.blocks = shown_blocks(piece, ours)[0]
        item.original = ShownPiece(original, shown_blocks(original, theirs)[0])
        item.same_article = original.article_id == article.pk
        item.original_article = article if item.same_article else original.article
        item.similarity = round(dedup.similarity(piece.text, original.text) * 100)
        if item.same_article:
            next(s for s in shown if s.piece.pk == original.pk).copies.append(piece)
    return shown


# --- pages --------------------------------------------------------------------------------


@staff_required
def articles(request: HttpRequest) -> HttpResponse:
    """Every article, newest first, by status and title: each opens in the preview."""
    status = request.GET.get("status", "")
    query = request.GET.get("q", "").strip()[:100]
    rows = Article.objects.select_related("category").order_by("-created_at", "-pk")
    if status in Article.Status.values:
        rows = rows.filter(status=status)
    else:
        status = ""
    if query:
        rows = rows.filter(title__icontains=query)
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "status": status,
        "query": query,
        "filters": STATUS_FILTERS,
        "desk_section": "articles",
    }
    return render(request, "staff/articles.html", context)


def _article_or_404(article_id: int) -> Article:
    if article_id >= 2**63:
        raise Http404("没有这篇文章")
    return get_object_or_404(Article.objects.select_related("category"), pk=article_id)


def _piece_or_404(article: Article, position: int) -> Piece:
    if position >= 2**31:
        raise Http404("没有这一篇")
    return get_object_or_404(Piece, article=article, position=position)


@staff_required
def article(request: HttpRequest, article_id: int) -> HttpResponse:
    """The preview (GET) and its forms (POST): rename, category, drop, merge, publish."""
    item = _article_or_404(article_id)
    article_form = ArticleForm(initial={"title": item.title, "intro": item.intro})
    category_form = CategoryForm(initial={"category": item.category_id})
    schedule_form = ScheduleForm(
        initial={"when": timezone.localtime(item.published_at)} if item.is_scheduled else None
    )
    if request.method == "POST":
        op = request.POST.get("op", "")
        try:
            done = _apply(request, item, op)
        except EditRefused as exc:
            messages.error(request, str(exc))
            done = True
        if done is True:
            return redirect("staff:article", article_id=item.pk)
        # A form that did not validate: shown again with its errors.
        article_form, category_form, schedule_form = (
            done.get("article", article_form),
            done.get("category", category_form),
            done.get("schedule", schedule_form),
        )
    context = {
        "article": item,
        "pieces": preview_pieces(item),
        "article_form": article_form,
        "category_form": category_form,
        "schedule_form": schedule_form,
        "desk_section": "articles",
    }
    return render(request, "staff/article.html", context)


def _apply(request: HttpRequest, item: Article, op: str) -> bool | dict:
    """Run one POSTed change; True when done, or the bound form that needs fixing."""
    post = request.POST
    if op == "rename":
        form = ArticleForm(post)
        if not form.is_valid():
            return {"article": form}
        do_update_article(
            item,
            title=form.cleaned_data["title"],
            category=item.category,
            intro=form.cleaned_data["intro"],
        )
        messages.success(request, "标题和导语已保存。")
    elif op == "category":
        form = CategoryForm(post)
        if not form.is_valid():
            return {"category": form}
        category = form.cleaned_data["category"]
        do_update_article(item, title=item.title, category=category, intro=item.intro)
        messages.success(request, f"分类已改为「{category.name}」。")
    elif op in ("drop", "merge"):
        position = post.get("position", "")
        if not position.isdigit():
            raise EditRefused("没有指明是哪一篇")
        piece = _piece_or_404(item, int(position))
        if op == "drop":
            do_drop_piece(piece)
            messages.success(request, f"已删除{piece.label}，后面各篇已重新编号。")
        else:
            previous = item.pieces.filter(position__lt=piece.position).order_by("-position").first()
            if previous is None:
                raise EditRefused("第一篇前面没有可以并入的一篇")
            do_merge_pieces(previous, piece)
            messages.success(request, f"已把{piece.label}并入{previous.label}。")
    elif op == "publish_now":
        done = do_publish_article(item)
        messages.success(request, f"已发布，读者现在可以看到：{done.get_absolute_url()}")
    elif op == "schedule":
        form = ScheduleForm(post)
        if not form.is_valid():
            return {"schedule": form}
        done = do_publish_article(item, form.cleaned_data["when"])
        at = timezone.localtime(done.published_at).strftime("%Y-%m-%d %H:%M")
        messages.success(request, f"定时发布：将于 {at} 上线，在此之前读者看不到。")
    elif op == "draft":
        do_draft_article(item)
        messages.success(request, "已存为草稿，读者看不到。")
    elif op == "hide":
        do_hide_article(item)
        messages.success(request, "已隐藏：已从列表、搜索和网站地图中撤下。")
    else:
        raise EditRefused("不认识的操作")
    return True


@staff_required
def piece_edit(request: HttpRequest, article_id: int, position: int) -> HttpResponse:
    """A piece as plain text; "预览" reads it back by the import rules, "保存" stores it."""
    item = _article_or_404(article_id)
    piece = _piece_or_404(item, position)
    preview: list[ShownBlock] | None = None
    if request.method == "POST":
        form = PieceForm(request.POST)
        if form.is_valid():
            title, body = form.cleaned_data["title"], form.cleaned_data["body"]
            if request.POST.get("op") == "save":
                try:
                    do_edit_piece(piece, title=title, text=body)
                except EditRefused as exc:
                    form.add_error("body", str(exc))
                else:
                    messages.success(request, f"{piece.label}已保存。")
                    return redirect(reverse("staff:article", args=[item.pk]) + f"#{piece.anchor}")
            if form.is_valid():
                draft = Piece(title=title, blocks=text_to_blocks(body))
                preview = shown_blocks(draft)[0]
    else:
        form = PieceForm(initial={"title": piece.title, "body": blocks_to_text(piece.blocks)})
        preview = shown_blocks(piece)[0]
    if request.GET.get("fragment") == "preview" or request.POST.get("fragment") == "preview":
        # The editor's live preview asks for the headings alone.
        return render(request, "staff/article_preview_blocks.html", {"blocks": preview or []})
    context = {
        "article": item,
        "piece": piece,
        "form": form,
        "preview": preview,
        "desk_section": "articles",
    }
    return render(request, "staff/article_piece.html", context)
