from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone


def normalize_email(email: str) -> str:
    """One spelling per address, so lookups and the unique constraint agree."""
    return email.strip().lower()


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields: object) -> User:
        user = self.model(email=normalize_email(email), **fields)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: object) -> User:
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        fields.setdefault("email_verified_at", timezone.now())
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A RemoSphere account, identified by its email address."""

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


class VerificationEmail(models.Model):
    """The outbox row of one verification email.

    Written in the same transaction as the user (or the resend request), so an email is
    never lost between the database and the broker: the task delivers it, and the sweep
    (``manage.py sweep_verification_emails``) re-enqueues any row left behind. A task
    claims the row (``sending`` until ``claimed_until``) before calling SendGrid, so two
    tasks for one row never both send; ``sent`` and ``failed`` are final.
    """

    class Status(models.TextChoices):
        PENDING = "pending"
        SENDING = "sending"
        SENT = "sent"
        FAILED = "failed"  # SendGrid refused it, or every attempt failed
        SKIPPED = "skipped"  # nothing to send any more: verified or deactivated meanwhile

    OPEN = (Status.PENDING, Status.SENDING)

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="verification_emails")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("id",)
        constraints = (
            models.UniqueConstraint(
                fields=("user",),
                condition=models.Q(status__in=("pending", "sending")),
                name="one_open_verification_email_per_user",
            ),
        )
        indexes = (
            models.Index(
                fields=("status", "next_attempt_at"),
                condition=models.Q(status__in=("pending", "sending")),
                name="open_verification_emails",
            ),
        )

    def __str__(self) -> str:
        return f"verification email {self.pk} for user {self.user_id} ({self.status})"
