from django.contrib import admin

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

    @admin.action(description="发布所选文章")
    def publish_selected(self, request, queryset):
        for article in queryset:
            article.publish()
            article.save()

    @admin.action(description="隐藏所选文章")
    def hide_selected(self, request, queryset):
        for article in queryset:
            article.status = Article.Status.HIDDEN
            article.save()


@admin.register(Piece)
class PieceAdmin(admin.ModelAdmin):
    list_display = ["__str__", "article", "position", "duplicate_of"]
    search_fields = ["title", "article__title"]
    raw_id_fields = ["article", "duplicate_of"]
