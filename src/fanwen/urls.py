from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path

from fanwen.library.sitemaps import SITEMAPS

admin.site.site_header = "范文网管理后台"
admin.site.site_title = "范文网管理"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("sitemap.xml", sitemap, {"sitemaps": SITEMAPS}, name="sitemap"),
    path("", include("fanwen.library.urls")),
]

handler404 = "fanwen.library.views.page_not_found"
