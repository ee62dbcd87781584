"""Server-rendered pages for people: the links in emails open these. Django templates, no
JavaScript. Like the API views they only translate: a form in, a service call, a page out.

Opening a link changes nothing (``GET`` only shows a form), so a mail scanner that opens
it first consumes nothing; the button posts the form. Pages that carry a token in their
address are never cached and tell no other site where they came from (the token is in
the address).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods

from authentication import services, tokens
from authentication.forms import ConfirmEmailForm, EmailForm, NewPasswordForm
from remosphere import ratelimit
from remosphere.exceptions import ApplicationError

View = Callable[..., HttpResponse]


def private(view: View) -> View:
    """No cache may keep the page, and no other site learns its address from a link on it.
    (``same-origin``, not ``no-referrer``: with the latter, browsers post forms with
    ``Origin: null``, which Django's CSRF check rightly refuses.)"""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        response = view(request, *args, **kwargs)
        add_never_cache_headers(response)
        response["Referrer-Policy"] = "same-origin"
        return response

    return wrapped


@private
@require_http_methods(["GET", "POST"])
def verify_email(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        token = request.GET.get("token", "")
        user = tokens.token_user(
            tokens.VERIFICATION, token, max_age=settings.EMAIL_VERIFICATION_MAX_AGE
        )
        if user is None or not user.is_active:
            return _invalid_link(request, "verification")
        if user.email_verified:
            return _page(request, "already_verified", address=user.email)
        form = ConfirmEmailForm(initial={"token": token})
        return _page(request, "verify_email", form=form, address=user.email)
    form = ConfirmEmailForm(request.POST)
    if not form.is_valid():
        if "token" in form.errors:
            return _invalid_link(request, "verification")
        return _page(request, "verify_email", form=form, status=400)
    wait = _over_limit(request, "login")
    if wait:
        return _page(request, "verify_email", form=form, error=_too_many(wait), status=429)
    try:
        user = services.user_verify_email(**form.cleaned_data)
    except ApplicationError as error:
        if error.code == "invalid_token":
            return _invalid_link(request, "verification")
        if error.code == "already_verified":
            return _page(request, "already_verified")
        return _page(
            request, "verify_email", form=form, error=error.message, status=error.status_code
        )
    return _page(request, "verified", address=user.email)


@private
@require_http_methods(["POST"])
def new_verification_link(request: HttpRequest) -> HttpResponse:
    form = EmailForm(request.POST)
    if not form.is_valid():
        return _page(request, "link_invalid", kind="verification", form=form, status=400)
    wait = _over_limit(request, "resend")
    if wait:
        return _page(
            request,
            "link_invalid",
            kind="verification",
            form=form,
            error=_too_many(wait),
            status=429,
        )
    services.verification_email_resend(email=form.cleaned_data["email"])
    return _page(request, "link_sent", kind="verification", address=form.cleaned_data["email"])


@private
@require_http_methods(["GET", "POST"])
def reset_password(request: HttpRequest) -> HttpResponse:
    """Without a token: ask for a link. With one: choose the new password."""
    token = request.GET.get("token") or request.POST.get("token")
    if not token:
        return _ask_for_reset_link(request)
    if request.method == "GET":
        user = tokens.token_user(
            tokens.PASSWORD_RESET, token, max_age=settings.PASSWORD_RESET_MAX_AGE
        )
        if user is None or not user.is_active:
            return _invalid_link(request, "password_reset")
        form = NewPasswordForm(initial={"token": token})
        return _page(request, "reset_password", form=form, address=user.email)
    form = NewPasswordForm(request.POST)
    if not form.is_valid():
        if "token" in form.errors:
            return _invalid_link(request, "password_reset")
        return _page(request, "reset_password", form=form, status=400)
    wait = _over_limit(request, "login")
    if wait:
        return _page(request, "reset_password", form=form, error=_too_many(wait), status=429)
    try:
        user = services.password_reset_confirm(
            token=form.cleaned_data["token"], password=form.cleaned_data["password"]
        )
    except ApplicationError:
        return _invalid_link(request, "password_reset")
    except ValidationError as error:
        for message in error.message_dict.get("password", []):
            form.add_error("password", message)
        return _page(request, "reset_password", form=form, status=400)
    return _page(request, "password_changed", address=user.email)


def _ask_for_reset_link(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        form = EmailForm(initial={"email": request.GET.get("email", "")})
        return _page(request, "reset_request", form=form)
    form = EmailForm(request.POST)
    if not form.is_valid():
        return _page(request, "reset_request", form=form, status=400)
    wait = _over_limit(request, "password_reset")
    if wait:
        return _page(request, "reset_request", form=form, error=_too_many(wait), status=429)
    services.password_reset_request(email=form.cleaned_data["email"])
    return _page(request, "link_sent", kind="password_reset", address=form.cleaned_data["email"])


def _invalid_link(request: HttpRequest, kind: str) -> HttpResponse:
    return _page(request, "link_invalid", kind=kind, form=EmailForm(), status=400)


def _page(request: HttpRequest, name: str, *, status: int = 200, **context: object) -> HttpResponse:
    return render(request, f"pages/{name}.html", context, status=status)


def _over_limit(request: HttpRequest, scope: str) -> int:
    """Seconds to wait when this client is over the API's limit for ``scope``, else 0."""
    rate = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][scope]
    verdict = ratelimit.hit(scope, ratelimit.client_address(request), rate)
    return 0 if verdict.allowed else verdict.retry_after


def _too_many(wait: int) -> str:
    minutes = max(1, round(wait / 60))
    plural = "s" if minutes != 1 else ""
    return f"Too many attempts from your network. Try again in about {minutes} minute{plural}."
