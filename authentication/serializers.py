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


class TokenInput(serializers.Serializer):
    token = serializers.CharField(max_length=1024)


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
    user = UserOutput()


class DetailOutput(serializers.Serializer):
    detail = serializers.CharField()


class ErrorOutput(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()
