from django.conf import settings
from django.contrib import admin
from django.contrib.sitemaps import views as sitemap_views
from django.templatetags.static import static
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from fanwen.accounts.loginlimits import admin_login
from fanwen.library import sitemaps
from fanwen.library.views import robots_txt
from fanwen.ops.views import healthz
from fanwen.payments.api import article_access
from fanwen.seo.views import indexnow_key

admin.site.site_header = "范文网管理后台"
admin.site.site_title = "范文网管理"

urlpatterns = [
    # Before the admin's own route: the same password-guessing limits as /account/login/.
    path("admin/login/", admin_login),
    path("admin/", admin.site.urls),
    path("robots.txt", robots_txt, name="robots"),
    # Load balancers and monitors (JSON; 503 when the database is down).
    path("healthz", healthz, name="healthz"),
    # The IndexNow key file (a 404 unless it is the configured key).
    re_path(r"^(?P<key>[A-Za-z0-9-]{8,128})\.txt$", indexnow_key, name="indexnow-key"),
    # Browsers ask for /favicon.ico on their own; answering it keeps them off the 404 page.
    path("favicon.ico", RedirectView.as_view(url=static("fanwen/favicon.svg"), permanent=True)),
    # An index of pages of 5,000 article URLs each, paged by id ranges (see the module).
    path("sitemap.xml", sitemaps.index, name="sitemap"),
    path("sitemap-articles.xml", sitemaps.article_page, name="sitemap-articles"),
    path(
        "sitemap-<section>.xml",
        sitemap_views.sitemap,
        {"sitemaps": sitemaps.SITEMAPS},
        name="django.contrib.sitemaps.views.sitemap",
    ),
    path("account/", include("fanwen.accounts.urls")),
    path("", include("fanwen.pages.urls")),
    path("", include("fanwen.support.urls")),
    path("pay/", include("fanwen.payments.urls")),
    path("staff/", include("fanwen.staff.urls")),
    path("staff/", include("fanwen.protection.staff_urls")),
    path("", include("fanwen.search.urls")),
    # 原创度检测: a buyer's draft against the library.
    path("", include("fanwen.checks.urls")),
    # Per-reader state of a cached article page; before the library routes, which own /a/.
    path("a/<int:article_id>/access.json", article_access, name="article-access"),
    # The paywall's "opened" beacon (the dashboard's funnel).
    path("", include("fanwen.stats.urls")),
    # The clean text and the DOCX, for readers with the right.
    path("", include("fanwen.protection.reader_urls")),
    path("", include("fanwen.protection.urls")),
    path("", include("fanwen.library.urls")),
]

if settings.FANWEN_SANDBOX:
    # The payment emulators exist only while the sandbox is on; otherwise /sandbox/ is a 404.
    urlpatterns.insert(1, path("sandbox/", include("fanwen.sandbox.urls")))

handler404 = "fanwen.library.views.page_not_found"
# A database too busy to write is a 503 with Retry-After wherever it is raised.
handler500 = "fanwen.lib.busy.server_error"
