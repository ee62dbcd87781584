"""HTTP adapters: parse the input, call a service, shape the output. Nothing else."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from authentication import services
from authentication.serializers import (
    DetailOutput,
    EmailInput,
    ErrorOutput,
    LoginInput,
    LoginOutput,
    PasswordResetConfirmInput,
    RegisterInput,
    RegisterOutput,
    UserOutput,
    VerifyInput,
)

REGISTER_DETAIL = "Check your inbox: a link to confirm your email address is on its way."
RESEND_DETAIL = (
    "If this address has an account that is not yet verified, a new verification email "
    "is on its way."
)
RESET_DETAIL = "If this address has an account, a link to choose a new password is on its way."
RESET_DONE = "Your password is changed; you are logged out everywhere. Log in with it."


def errors(**described: str) -> dict[int, OpenApiResponse]:
    """OpenAPI responses for error statuses, every one in the one error shape:
    ``errors(e400="...", e429="...")``."""
    return {
        int(name[1:]): OpenApiResponse(response=ErrorOutput, description=text)
        for name, text in described.items()
    }


# What any endpoint that reads a JSON body may answer besides its own outcomes.
BODY_ERRORS = {
    "e413": "The body is over 16 KB (`too_large`).",
    "e415": "The body is not `application/json` (`unsupported_media_type`).",
    "e503": "The database is briefly unreachable (`unavailable`); retry after `Retry-After`.",
}
THROTTLED = {"e429": "Too many attempts (`throttled`); retry after `Retry-After` seconds."}
NOT_AUTHENTICATED = {
    "e401": "No valid token (`not_authenticated`, `authentication_failed`): the token is "
    "missing, expired or ended by a logout or a password change."
}


def public_errors(**described: str) -> dict[int, OpenApiResponse]:
    """``errors`` of an endpoint anyone may call with a JSON body: its own, the body's
    and the throttle's."""
    return errors(**described, **BODY_ERRORS, **THROTTLED)


RETRY_AFTER = OpenApiParameter(
    "Retry-After",
    int,
    OpenApiParameter.HEADER,
    description="Seconds to wait before trying again.",
    response=[429, 503],
)


class PublicView(APIView):
    """An endpoint anyone may call: no token needed, none read."""

    permission_classes = (AllowAny,)
    authentication_classes = ()


class RegisterView(PublicView):
    throttle_scope = "register"

    @extend_schema(
        request=RegisterInput,
        responses={
            201: RegisterOutput,
            **public_errors(
                e400="Invalid fields (`invalid`, with `fields`) or malformed JSON (`parse_error`).",
            ),
        },
        parameters=[RETRY_AFTER],
        description="Records a registration and emails the address a link to confirm it. "
        "The same 201 whether or not the address already has an account, so the answer "
        "reveals nothing. The password becomes the account's only when the address is "
        "confirmed with it (POST /api/auth/verify-email).",
    )
    def post(self, request: Request) -> Response:
        data = _valid(RegisterInput, request.data)
        email = services.user_register(email=data["email"], password=data["password"])
        return Response({"email": email, "detail": REGISTER_DETAIL}, status=status.HTTP_201_CREATED)


class VerifyEmailView(PublicView):
    throttle_scope = "login"  # it checks a password, as a login does

    @extend_schema(
        request=VerifyInput,
        responses={
            200: UserOutput,
            **public_errors(
                e400="`invalid_token` (bad, expired or foreign link), `wrong_password` (not "
                "the password of any registration of this address), `invalid` with `fields`, "
                "or `parse_error`.",
                e409="`already_verified`: the address is confirmed; log in.",
            ),
        },
        parameters=[RETRY_AFTER],
        description="Confirms the address with the token from the email and the password "
        "chosen at registration, which becomes the account's password.",
    )
    def post(self, request: Request) -> Response:
        data = _valid(VerifyInput, request.data)
        user = services.user_verify_email(token=data["token"], password=data["password"])
        return Response(UserOutput(user).data)


class ResendVerificationView(PublicView):
    throttle_scope = "resend"

    @extend_schema(
        request=EmailInput,
        responses={
            202: DetailOutput,
            **public_errors(
                e400="Invalid fields (`invalid`) or malformed JSON (`parse_error`).",
            ),
        },
        parameters=[RETRY_AFTER],
        description="The same 202 whether or not the address has an account.",
    )
    def post(self, request: Request) -> Response:
        data = _valid(EmailInput, request.data)
        services.verification_email_resend(email=data["email"])
        return Response({"detail": RESEND_DETAIL}, status=status.HTTP_202_ACCEPTED)


class PasswordResetView(PublicView):
    throttle_scope = "password_reset"

    @extend_schema(
        request=EmailInput,
        responses={
            202: DetailOutput,
            **public_errors(
                e400="Invalid fields (`invalid`) or malformed JSON (`parse_error`).",
            ),
        },
        parameters=[RETRY_AFTER],
        description="Emails a link to choose a new password (`PASSWORD_RESET_URL`). The "
        "same 202 whether or not the address has an account.",
    )
    def post(self, request: Request) -> Response:
        data = _valid(EmailInput, request.data)
        services.password_reset_request(email=data["email"])
        return Response({"detail": RESET_DETAIL}, status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmView(PublicView):
    throttle_scope = "login"

    @extend_schema(
        request=PasswordResetConfirmInput,
        responses={
            200: DetailOutput,
            **public_errors(
                e400="`invalid_token` (bad, expired or already used link), `invalid` with "
                "`fields` (a password the validators refuse), or `parse_error`.",
            ),
        },
        parameters=[RETRY_AFTER],
        description="Sets the new password with the token from the emailed link. The link "
        "works once; every API token of the account ends; an unverified address becomes "
        "verified (the link proves the inbox).",
    )
    def post(self, request: Request) -> Response:
        data = _valid(PasswordResetConfirmInput, request.data)
        services.password_reset_confirm(token=data["token"], password=data["password"])
        return Response({"detail": RESET_DONE})


class LoginView(PublicView):
    throttle_scope = "login"

    @extend_schema(
        request=LoginInput,
        responses={
            200: LoginOutput,
            **public_errors(
                e400="`invalid_credentials`, `invalid` with `fields`, or `parse_error`.",
                e403="`email_not_verified`: confirm the address first.",
            ),
        },
        parameters=[RETRY_AFTER],
        description="Each login gets its own token, valid until `expiry` or until it is "
        "ended by a logout, a logout everywhere, or a password change.",
    )
    def post(self, request: Request) -> Response:
        data = _valid(LoginInput, request.data)
        session = services.user_login(email=data["email"], password=data["password"])
        return Response(LoginOutput(session).data)


class LogoutView(APIView):
    @extend_schema(
        request=None,
        responses={204: None, **errors(**NOT_AUTHENTICATED, e503=BODY_ERRORS["e503"])},
        parameters=[RETRY_AFTER],
        description="Ends the session of the token sent.",
    )
    def post(self, request: Request) -> Response:
        services.user_logout(token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutEverywhereView(APIView):
    @extend_schema(
        request=None,
        responses={204: None, **errors(**NOT_AUTHENTICATED, e503=BODY_ERRORS["e503"])},
        parameters=[RETRY_AFTER],
        description="Ends every session of the account, on every device.",
    )
    def post(self, request: Request) -> Response:
        services.user_logout_everywhere(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    @extend_schema(
        responses={200: UserOutput, **errors(**NOT_AUTHENTICATED, e503=BODY_ERRORS["e503"])},
        parameters=[RETRY_AFTER],
    )
    def get(self, request: Request) -> Response:
        return Response(UserOutput(request.user).data)


def _valid(serializer_class: type, data: object) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
