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


class Email(models.Model):
    """The outbox: one row per email to send, of any kind.

    Written in the same transaction as whatever asked for it, so an email is never lost
    between the database and the broker: the task delivers it, and the sweep
    (``manage.py sweep_emails``) re-enqueues any row left behind. A row names an address,
    not an account: a request for an address with no account writes the same row, and the
    worker finds nobody to send it to (``skipped``), so the request's timing tells nothing.
    A task claims the row (``sending`` until ``claimed_until``) before calling SendGrid, so
    two tasks for one row never both send; ``sent``, ``failed``, ``skipped`` and
    ``suppressed`` are final.

    What became of a sent email is SendGrid's to tell, later, through its Event Webhook
    (``authentication.delivery_events``): ``outcome`` records it, found by ``message_id``
    (SendGrid's ``X-Message-Id``) and the row's id, which every send carries.
    """

    class Kind(models.TextChoices):
        VERIFICATION = "verification"  # confirm the address of a registration
        PASSWORD_RESET = "password_reset"  # noqa: S105 - a kind of email  # nosec B105
        ACCOUNT_EXISTS = "account_exists"  # someone registered an address that has an account

    class Status(models.TextChoices):
        PENDING = "pending"
        SENDING = "sending"
        SENT = "sent"
        FAILED = "failed"  # SendGrid refused it, or every attempt failed
        SKIPPED = "skipped"  # nobody to send it to (no such account, or nothing left to do)
        SUPPRESSED = "suppressed"  # the address bounced, was dropped or reported spam before

    class Outcome(models.TextChoices):
        """What SendGrid reported after accepting the email; later news can only move it
        forward (``authentication.delivery_events.RANK``)."""

        NONE = "", "not reported"
        DEFERRED = "deferred"  # the receiving server asked SendGrid to try again later
        DELIVERED = "delivered"
        BOUNCED = "bounced"  # the receiving server refused it
        DROPPED = "dropped"  # SendGrid did not send it (an address it knows to be bad...)
        SPAM_REPORT = "spam_report"  # the recipient marked it as spam

    OPEN = (Status.PENDING, Status.SENDING)

    kind = models.CharField(max_length=32, choices=Kind.choices)
    address = models.EmailField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Defaults in the database too: the outbox writes its rows with plain SQL (emails.py).
    message_id = models.CharField(max_length=100, blank=True, db_default="")  # X-Message-Id
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True, db_default="")
    outcome_at = models.DateTimeField(null=True, blank=True)  # when SendGrid saw it happen
    outcome_reason = models.TextField(blank=True, db_default="")  # SendGrid's words

    class Meta:
        ordering = ("id",)
        constraints = (
            models.UniqueConstraint(
                fields=("address", "kind"),
                condition=models.Q(status__in=("pending", "sending")),
                name="one_open_email_per_address_and_kind",
            ),
        )
        indexes = (
            models.Index(
                fields=("status", "next_attempt_at"),
                condition=models.Q(status__in=("pending", "sending")),
                name="open_emails",
            ),
            models.Index(fields=("address",), name="emails_by_address"),
            # the autoscaler's measured rate counts what was sent since its last run
            models.Index(fields=("sent_at",), name="emails_by_sent_at"),
            # doctor and the metrics list the failures of the last hour, with their reasons
            models.Index(
                fields=("failed_at",),
                condition=models.Q(status="failed"),
                name="failed_emails",
            ),
            # doctor and the metrics count the outcomes of the last hour
            models.Index(
                fields=("outcome_at",),
                condition=~models.Q(outcome=""),
                name="emails_by_outcome_at",
            ),
        )

    def __str__(self) -> str:
        return f"{self.kind} email {self.pk} ({self.status})"


class Suppression(models.Model):
    """An address no email is sent to: it hard-bounced, SendGrid dropped an email to it as
    invalid, or its owner reported an email as spam (``authentication.suppressions``).
    Sending to it again would hurt the sender's reputation with every mailbox provider.
    Lifting it (the admin's action, ``manage.py lift_suppression``) keeps the row, with who
    lifted it and when; the address may be suppressed again later."""

    class Reason(models.TextChoices):
        BOUNCED = "bounced"
        DROPPED = "dropped"
        SPAM_REPORT = "spam_report"

    address = models.EmailField()
    reason = models.CharField(max_length=16, choices=Reason.choices)
    detail = models.TextField(blank=True)  # SendGrid's reason
    email = models.ForeignKey(
        Email, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.CharField(max_length=254, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = (
            models.UniqueConstraint(
                fields=("address",),
                condition=models.Q(lifted_at__isnull=True),
                name="one_active_suppression_per_address",
            ),
        )

    def __str__(self) -> str:
        state = f"lifted {self.lifted_at:%Y-%m-%d}" if self.lifted_at else "active"
        return f"{self.address} ({self.reason}, {state})"
