from django.apps import AppConfig


class AuthenticationConfig(AppConfig):
    name = "authentication"
    verbose_name = "Authentication"

    def ready(self) -> None:
        from authentication import email_kinds

        email_kinds.register()
