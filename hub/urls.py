from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path
from django.views.static import serve

from hub import health
from resources.catalogue.sitemaps import robots_txt, sitemap
from resources.clinics import embed
from resources.clinics.api.views import api
from resources.programmes.hsds import hsds

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("api/hsds/", hsds.urls),
    path("robots.txt", robots_txt, name="robots-txt"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path(".well-known/security.txt", health.security_txt, name="security-txt"),
    path("sitemap.xml", sitemap, name="sitemap"),
    path("embed/resources/", embed.widget, name="embed"),
]

urlpatterns += i18n_patterns(
    path("", include("resources.urls")),
    prefix_default_language=True,
)

if settings.DEBUG:
    urlpatterns += [
        path(
            f"{settings.MEDIA_URL.strip('/')}/<path:path>",
            serve,
            {"document_root": settings.MEDIA_ROOT},
        )
    ]
