from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap

from fanwen.library.catalog import category_tree
from fanwen.library.models import Article, Category


class SiteSitemap(Sitemap):
    """Absolute URLs on SITE_URL when it is set, like the canonical links."""

    def get_protocol(self, protocol: str | None = None) -> str:
        return urlsplit(settings.SITE_URL).scheme or super().get_protocol(protocol)

    def get_domain(self, site=None) -> str:
        return urlsplit(settings.SITE_URL).netloc or super().get_domain(site)


class ArticleSitemap(SiteSitemap):
    changefreq = "weekly"
    limit = 5000

    def items(self):
        return Article.objects.published().only("id", "updated_at").order_by("id")

    def lastmod(self, article: Article):
        return article.updated_at


class CategorySitemap(SiteSitemap):
    changefreq = "daily"

    def items(self):
        # Only categories a reader can open: those with a published article in or below them.
        return Category.objects.filter(pk__in=category_tree().public_ids())


SITEMAPS = {"articles": ArticleSitemap, "categories": CategorySitemap}
