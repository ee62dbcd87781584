"""Input and output shapes of the authentication API (validation of form only;
rules such as password strength and unique emails live in services)."""

from rest_framework import serializers

from authentication.models import User


class RegisterInput(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False, write_only=True)


class RegisterOutput(serializers.Serializer):
    email = serializers.EmailField()
    detail = serializers.CharField()


class EmailInput(serializers.Serializer):
    email = serializers.EmailField(max_length=254)


class VerifyInput(serializers.Serializer):
    token = serializers.CharField(max_length=1024, help_text="The `token` of the emailed link.")
    password = serializers.CharField(
        max_length=128,
        trim_whitespace=False,
        write_only=True,
        help_text="The password chosen when registering.",
    )


class PasswordResetConfirmInput(serializers.Serializer):
    token = serializers.CharField(max_length=1024, help_text="The `token` of the emailed link.")
    password = serializers.CharField(
        max_length=128, trim_whitespace=False, write_only=True, help_text="The new password."
    )


class LoginInput(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False, write_only=True)


class UserOutput(serializers.ModelSerializer):
    email_verified = serializers.BooleanField(read_only=True)

    class Meta:
        model = User
        fields = ("id", "email", "email_verified", "date_joined")
        read_only_fields = fields


class LoginOutput(serializers.Serializer):
    token = serializers.CharField(help_text="Send as `Authorization: Token <token>`.")
    expiry = serializers.DateTimeField(help_text="When the token stops working.")
    user = UserOutput()


class DetailOutput(serializers.Serializer):
    detail = serializers.CharField()


class ErrorOutput(serializers.Serializer):
    """Every error: a message for people and a stable code for programs; ``fields`` only
    with code ``invalid``."""

    detail = serializers.CharField()
    code = serializers.CharField()
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="With code `invalid`: the messages for each invalid field.",
    )
