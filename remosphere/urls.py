import re

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView

from emails import webhooks
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
    urlpatterns += [
        # The outbox and the suppressions were the authentication app's until email got an
        # app of its own: their old admin addresses (bookmarks, runbooks) lead to the new.
        re_path(
            rf"^{re.escape(settings.ADMIN_PATH)}authentication/(?P<model>email|suppression)/(?P<rest>.*)$",
            RedirectView.as_view(
                url=f"/{settings.ADMIN_PATH}emails/%(model)s/%(rest)s",
                query_string=True,
                permanent=True,
            ),
        ),
        path(settings.ADMIN_PATH, admin.site.urls),
    ]

# Outside the REST framework views (an unknown /api/ path, a crash), errors under /api/
# are JSON in the API's one error shape too.
handler404 = "remosphere.error_views.not_found"
handler500 = "remosphere.error_views.server_error"
