from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from remosphere import endpoints, health

urlpatterns = [
    path(endpoints.HEALTHZ.lstrip("/"), health.healthz, name="healthz"),
    path(endpoints.READYZ.lstrip("/"), health.readyz, name="readyz"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/auth/", include("authentication.urls")),
    path("admin/", admin.site.urls),
]
