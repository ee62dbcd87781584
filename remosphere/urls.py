from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from remosphere import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/auth/", include("authentication.urls")),
    path("admin/", admin.site.urls),
]
