"""Scheduled-deploy shapes for the REST API (schedules/api.py). The time rules live in
schedules/validators.py, shared with the form."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from schedules.cron import MAX_CRON_LENGTH
from schedules.models import ScheduledDeploy
from schedules.validators import EXAMPLE, parse_aware_datetime


@extend_schema_field(OpenApiTypes.DATETIME)
class AwareDateTimeField(serializers.Field):
    """ISO 8601 with a UTC offset (or Z), returned in UTC.

    Not DRF's DateTimeField: that one silently reads a time without an offset as UTC, and a
    deploy an hour off is worse than a 400.
    """

    default_error_messages = {"type": f"Give the time as text like {EXAMPLE}."}

    def to_internal_value(self, data) -> datetime:
        if not isinstance(data, str):
            self.fail("type")
        try:
            return parse_aware_datetime(data)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None
        except OverflowError:
            # Year 1 or 9999 moved to UTC leaves datetime's range: not a time anyone means.
            raise serializers.ValidationError("That time is out of range.") from None

    def to_representation(self, value: datetime) -> str:
        return value.isoformat()


class ScheduleInputSerializer(serializers.Serializer):
    """Types and offsets only; the service refuses past times and bad commits by field."""

    run_at = AwareDateTimeField(
        required=False,
        help_text=f"When to deploy once, with a UTC offset: {EXAMPLE}. Or give `cron`.",
    )
    cron = serializers.CharField(
        required=False, allow_blank=True, max_length=MAX_CRON_LENGTH,
        help_text="Repeat on this five-field cron expression, in the organization's time zone "
        "(e.g. 0 6 * * 1-5); `run_at` is then the next run.",
    )
    commit = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=40,
        help_text="A full 40-character SHA; default: the branch head when the deploy runs.",
    )


class ScheduleSerializer(serializers.ModelSerializer):
    run_at = AwareDateTimeField(read_only=True)

    class Meta:
        model = ScheduledDeploy
        fields = [
            "id",
            "site",
            "run_at",
            "commit",
            "cron",
            "status",
            "created_by_name",
            "created_at",
            "fired_at",
            "deployment",
            "cancelled_at",
            "cancel_reason",
        ]
        read_only_fields = fields
