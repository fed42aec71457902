from django.contrib.sitemaps import Sitemap

from fanwen.library.models import Article, Category


class ArticleSitemap(Sitemap):
    changefreq = "weekly"
    limit = 5000

    def items(self):
        return Article.objects.published().only("id", "updated_at").order_by("id")

    def lastmod(self, article: Article):
        return article.updated_at


class CategorySitemap(Sitemap):
    changefreq = "daily"

    def items(self):
        return Category.objects.all()


SITEMAPS = {"articles": ArticleSitemap, "categories": CategorySitemap}
