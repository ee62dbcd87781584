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
    RegisterInput,
    RegisterOutput,
    TokenInput,
    UserOutput,
)

REGISTER_DETAIL = "Check your inbox: a link to verify your email address is on its way."
RESEND_DETAIL = (
    "If this address has an account that is not yet verified, a new verification email "
    "is on its way."
)
VALIDATION_ERROR = OpenApiResponse(description="Per-field validation errors.")


class RegisterView(APIView):
    permission_classes = (AllowAny,)
    authentication_classes = ()
    throttle_scope = "register"

    @extend_schema(
        request=RegisterInput,
        responses={201: RegisterOutput, 400: VALIDATION_ERROR},
        description="The same 201 whether or not the address already has an account, so "
        "the answer reveals nothing; the address's owner gets the email.",
    )
    def post(self, request: Request) -> Response:
        data = _valid(RegisterInput, request.data)
        email = services.user_register(email=data["email"], password=data["password"])
        return Response({"email": email, "detail": REGISTER_DETAIL}, status=status.HTTP_201_CREATED)


class VerifyEmailView(APIView):
    permission_classes = (AllowAny,)
    authentication_classes = ()

    @extend_schema(request=TokenInput, responses={200: UserOutput, 400: ErrorOutput})
    def post(self, request: Request) -> Response:
        return self._verify(request.data)

    @extend_schema(
        parameters=[OpenApiParameter("token", str, required=True)],
        responses={200: UserOutput, 400: ErrorOutput},
        description="The same as POST, for the link in the verification email.",
    )
    def get(self, request: Request) -> Response:
        return self._verify(request.query_params)

    def _verify(self, raw: object) -> Response:
        data = _valid(TokenInput, raw)
        user = services.user_verify_email(token=data["token"])
        return Response(UserOutput(user).data)


class ResendVerificationView(APIView):
    permission_classes = (AllowAny,)
    authentication_classes = ()
    throttle_scope = "resend"

    @extend_schema(request=EmailInput, responses={202: DetailOutput, 400: VALIDATION_ERROR})
    def post(self, request: Request) -> Response:
        data = _valid(EmailInput, request.data)
        services.verification_email_resend(email=data["email"])
        return Response({"detail": RESEND_DETAIL}, status=status.HTTP_202_ACCEPTED)


class LoginView(APIView):
    permission_classes = (AllowAny,)
    authentication_classes = ()
    throttle_scope = "login"

    @extend_schema(
        request=LoginInput,
        responses={200: LoginOutput, 400: ErrorOutput, 403: ErrorOutput},
        description="403 with code `email_not_verified` until the email is verified.",
    )
    def post(self, request: Request) -> Response:
        data = _valid(LoginInput, request.data)
        user, token = services.user_login(email=data["email"], password=data["password"])
        return Response({"token": token, "user": UserOutput(user).data})


class LogoutView(APIView):
    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        services.user_logout(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    @extend_schema(responses={200: UserOutput})
    def get(self, request: Request) -> Response:
        return Response(UserOutput(request.user).data)


def _valid(serializer_class: type, data: object) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
