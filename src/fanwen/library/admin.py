from django import forms
from django.contrib import admin, messages
from django.utils import timezone
from django.utils.formats import localize

from fanwen.library.actions import (
    EditRefused,
    do_draft_article,
    do_drop_piece,
    do_edit_piece,
    do_hide_article,
    do_publish_article,
)
from fanwen.library.importer.edit_text import HELP, blocks_to_text, text_to_blocks
from fanwen.library.models import Article, Category, Piece


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "parent", "position"]
    list_editable = ["position"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name", "slug"]


class PieceTextForm(forms.ModelForm):
    """A piece as plain text, one paragraph a line: the blocks are read from it by the
    importer's heading rules (never typed as JSON)."""

    body = forms.CharField(
        label="正文",
        widget=forms.Textarea(attrs={"rows": 14, "cols": 90}),
        help_text=HELP,
    )

    class Meta:
        model = Piece
        fields = ["title"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["body"].initial = blocks_to_text(self.instance.blocks)

    def clean_body(self) -> str:
        body = self.cleaned_data["body"]
        if not text_to_blocks(body):
            raise forms.ValidationError("正文不能为空")
        return body


def _store_piece(article: Article, form: PieceTextForm) -> Piece:
    """A new piece goes last; every save is do_edit_piece (placeholders, duplicates, font)."""
    piece = form.instance
    if piece.pk is None:
        last = article.pieces.order_by("-position").values_list("position", flat=True).first()
        piece = Piece.objects.create(article=article, position=(last or 0) + 1)
    return do_edit_piece(piece, title=form.cleaned_data["title"], text=form.cleaned_data["body"])


class PieceInline(admin.StackedInline):
    model = Piece
    form = PieceTextForm
    extra = 0
    fields = ["position", "title", "body", "duplicate_of"]
    readonly_fields = ["position", "duplicate_of"]
    show_change_link = True


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["title", "category", "status", "piece_count", "view_count", "published_at"]
    list_filter = ["status", "category", "source_format"]
    search_fields = ["title", "intro"]
    date_hierarchy = "published_at"
    readonly_fields = [
        "piece_count",
        "view_count",
        "content_version",
        "source_key",
        "created_at",
        "updated_at",
    ]
    inlines = [PieceInline]
    actions = ["publish_selected", "hide_selected", "draft_selected"]

    def save_model(self, request, obj: Article, form, change) -> None:
        # The other fields are saved as typed; status and time go through the actions.
        wanted, when = obj.status, obj.published_at
        if change:
            old = Article.objects.only("status", "published_at").get(pk=obj.pk)
            obj.status, obj.published_at = old.status, old.published_at
        else:
            obj.status, obj.published_at = Article.Status.DRAFT, None
        super().save_model(request, obj, form, change)
        moved = wanted != obj.status or when != obj.published_at
        if wanted in (Article.Status.PUBLISHED, Article.Status.SCHEDULED) and moved:
            done = do_publish_article(obj, when)
        elif wanted == Article.Status.HIDDEN and moved:
            done = do_hide_article(obj)
        elif wanted == Article.Status.DRAFT and moved:
            done = do_draft_article(obj)
        else:
            return
        obj.status, obj.published_at = done.status, done.published_at
        # Say what the reader will see.
        if done.status == Article.Status.SCHEDULED:
            at = localize(timezone.localtime(done.published_at))
            self.message_user(
                request, f"定时发布：文章将于 {at} 上线，在此之前读者看不到。", messages.INFO
            )
        elif done.status == Article.Status.PUBLISHED and when is None:
            self.message_user(request, "发布时间为空，已设为现在，文章已上线。", messages.INFO)

    def save_formset(self, request, form, formset, change) -> None:
        if formset.model is not Piece:
            return super().save_formset(request, form, formset, change)
        article = form.instance
        for piece_form in formset.deleted_forms:
            if piece_form.instance.pk:
                try:
                    do_drop_piece(piece_form.instance)
                except EditRefused as exc:
                    self.message_user(request, str(exc), messages.WARNING)
        for piece_form in formset.forms:
            if piece_form in formset.deleted_forms or not piece_form.has_changed():
                continue
            _store_piece(article, piece_form)
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    @admin.action(description="发布所选文章")
    def publish_selected(self, request, queryset):
        for article in queryset:
            do_publish_article(article)
        self.message_user(request, f"已发布 {len(queryset)} 篇文章。", messages.SUCCESS)

    @admin.action(description="隐藏所选文章")
    def hide_selected(self, request, queryset):
        for article in queryset:
            do_hide_article(article)
        self.message_user(request, f"已隐藏 {len(queryset)} 篇文章。", messages.SUCCESS)

    @admin.action(description="改回草稿")
    def draft_selected(self, request, queryset):
        for article in queryset:
            do_draft_article(article)
        self.message_user(request, f"已改回草稿 {len(queryset)} 篇文章。", messages.SUCCESS)


@admin.register(Piece)
class PieceAdmin(admin.ModelAdmin):
    form = PieceTextForm
    list_display = ["__str__", "article", "position", "duplicate_of"]
    search_fields = ["title", "article__title"]
    raw_id_fields = ["article"]
    readonly_fields = ["position", "duplicate_of"]

    def get_fields(self, request, obj=None):
        return ["article", "position", "title", "body", "duplicate_of"]

    def get_readonly_fields(self, request, obj=None):
        # A piece stays in its article; moving it would leave two (优秀N篇) counts wrong.
        return [*self.readonly_fields, "article"] if obj is not None else self.readonly_fields

    def save_model(self, request, obj: Piece, form, change) -> None:
        stored = _store_piece(obj.article, form)
        # The admin goes on with `obj` (history, the redirect): make it the row just written.
        obj.pk, obj.position = stored.pk, stored.position
