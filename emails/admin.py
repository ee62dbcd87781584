from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from emails import suppressions
from emails.models import Email, Suppression


@admin.register(Email)
class EmailAdmin(admin.ModelAdmin):
    """The outbox, for looking into a missing email: read-only, the workers own it. Its
    outcome is what SendGrid reported after accepting it (delivered, bounced...)."""

    list_display = (
        "address",
        "kind",
        "status",
        "attempts",
        "sent_at",
        "outcome",
        "outcome_at",
        "outcome_reason",
        "last_error",
    )
    list_filter = ("kind", "status", "outcome")
    search_fields = ("address", "message_id")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    """Addresses no email is sent to, and the ones lifted. Lifting is the one change made
    here (the action); the events that suppress an address add them."""

    list_display = ("address", "reason", "detail", "created_at", "lifted_at", "lifted_by")
    list_filter = ("reason", ("lifted_at", admin.EmptyFieldListFilter))
    search_fields = ("address",)
    actions = ("lift",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.action(description="Lift the selected suppressions (emails are sent again)")
    def lift(self, request: HttpRequest, queryset: QuerySet[Suppression]) -> None:
        by = f"admin: {request.user.get_username()}"
        lifted = [
            s.address
            for s in queryset.filter(lifted_at__isnull=True)
            if suppressions.suppression_lift(address=s.address, by=by)
        ]
        self.message_user(
            request,
            f"{len(lifted)} suppression(s) lifted" if lifted else "nothing to lift",
            messages.SUCCESS if lifted else messages.WARNING,
        )
