from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from authentication import webhooks
from operations import metrics
from remosphere import health
from servicespec import endpoints

urlpatterns = [
    path(endpoints.HEALTHZ.lstrip("/"), health.healthz, name="healthz"),
    path(endpoints.READYZ.lstrip("/"), health.readyz, name="readyz"),
    path(endpoints.METRICS.lstrip("/"), metrics.metrics, name="metrics"),
    path(endpoints.SENDGRID_EVENTS.lstrip("/"), webhooks.sendgrid_events, name="sendgrid-events"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/auth/", include("authentication.urls")),
    path("", include("authentication.page_urls")),
]
if settings.ADMIN_ENABLED:
    urlpatterns.append(path(settings.ADMIN_PATH, admin.site.urls))

# Outside the REST framework views (an unknown /api/ path, a crash), errors under /api/
# are JSON in the API's one error shape too.
handler404 = "remosphere.errors.not_found"
handler500 = "remosphere.errors.server_error"
