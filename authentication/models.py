from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone

from remosphere.addresses import normalize_email


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields: object) -> User:
        user = self.model(email=normalize_email(email), **fields)
        user.set_password(password)
        # Uniqueness is the database's to decide: a check here would race a concurrent
        # registration of the same address (the unique index raises IntegrityError).
        user.full_clean(exclude=["password"], validate_unique=False, validate_constraints=False)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: object) -> User:
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        fields.setdefault("email_verified_at", timezone.now())
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A RemoSphere account, identified by its email address.

    Until the address is verified the account has no usable password: each registration
    of the address keeps the password it chose (``Registration``), and confirming the
    email with one of them makes that one the account's (``services.user_verify_email``).
    """

    email = models.EmailField(unique=True)
    email_verified_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ()

    class Meta:
        ordering = ("id",)

    def __str__(self) -> str:
        return self.email

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    def save(self, *args: object, **kwargs: object) -> None:
        # Whatever sets a password (a reset, the admin, `manage.py changepassword`) ends
        # every API session: a token from before the change must not outlive it.
        password_changed = self._password is not None
        super().save(*args, **kwargs)
        if password_changed:
            from knox.models import AuthToken

            AuthToken.objects.filter(user=self).delete()


class Registration(models.Model):
    """One registration of an address that is not verified yet, with the password it chose
    (hashed). Anyone can register any address; only someone who reads its inbox can
    confirm it, and the password they type when confirming picks which registration's
    password the account keeps. A registration by someone else is never activated."""

    MAX_PER_USER = 5  # older ones are dropped

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="registrations")
    password = models.CharField(max_length=128)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return f"registration {self.pk} of user {self.user_id}"
