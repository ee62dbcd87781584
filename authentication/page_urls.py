"""The pages people open from emails (authentication/pages.py)."""

from django.urls import path

from authentication import pages

app_name = "pages"

urlpatterns = [
    path("verify-email", pages.verify_email, name="verify-email"),
    path("verify-email/new-link", pages.new_verification_link, name="new-verification-link"),
    path("reset-password", pages.reset_password, name="reset-password"),
]
