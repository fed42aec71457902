from django.contrib import admin, messages
from django.utils import timezone
from django.utils.formats import localize

from fanwen.library.actions import do_hide_article, do_publish_article
from fanwen.library.models import Article, Category, Piece


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "parent", "position"]
    list_editable = ["position"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name", "slug"]


class PieceInline(admin.StackedInline):
    model = Piece
    extra = 0
    fields = ["position", "title", "blocks", "duplicate_of"]
    raw_id_fields = ["duplicate_of"]
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
    actions = ["publish_selected", "hide_selected"]

    def save_model(self, request, obj: Article, form, change) -> None:
        untimed = obj.status == Article.Status.PUBLISHED and obj.published_at is None
        super().save_model(request, obj, form, change)
        # Say what the reader will see: the save itself fills an empty time with now.
        if untimed:
            self.message_user(request, "发布时间为空，已设为现在，文章已上线。", messages.INFO)
        elif obj.status == Article.Status.PUBLISHED and obj.published_at > timezone.now():
            when = localize(timezone.localtime(obj.published_at))
            self.message_user(request, f"文章将于 {when} 上线，在此之前读者看不到。", messages.INFO)

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


@admin.register(Piece)
class PieceAdmin(admin.ModelAdmin):
    list_display = ["__str__", "article", "position", "duplicate_of"]
    search_fields = ["title", "article__title"]
    raw_id_fields = ["article", "duplicate_of"]
