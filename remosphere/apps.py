from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class AdminConfig(DjangoAdminConfig):
    """Django's admin, served by ``remosphere.admin_site.AdminSite``."""

    default_site = "remosphere.admin_site.AdminSite"
