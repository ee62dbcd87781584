"""What operations keeps in PostgreSQL: the worker nodes that ended themselves."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class SelfRestart(models.Model):
    """A worker node ended itself so Render starts a fresh one (``operations.stall``). Kept
    in PostgreSQL, not Redis: a node cut off from Redis (a partition) still counts."""

    node = models.CharField(max_length=255)
    reason = models.CharField(max_length=32)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = (models.Index(fields=("reason",), name="self_restarts_by_reason"),)

    def __str__(self) -> str:
        return f"{self.node} restarted itself ({self.reason}) at {self.at:%Y-%m-%d %H:%M:%S}"
