"""The organization's audit log: newest first, 50 per page, a constant number of queries."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tenancy.access import org_view
from tenancy.models import AuditEvent
from tenancy.roles import Cap

PAGE_SIZE = 50


@dataclass(frozen=True)
class Change:
    field: str
    before: str
    after: str


@dataclass(frozen=True)
class AuditRow:
    event: AuditEvent
    changes: list[Change]


def _show(value: object) -> str:
    return "" if value is None else str(value)


def audit_changes(event: AuditEvent) -> list[Change]:
    """Pair up the `before` and `after` values of an event, one row per field."""
    before, after = event.before or {}, event.after or {}
    fields = list(dict.fromkeys([*before, *after]))  # keep the recorded order, no duplicates
    return [Change(f, _show(before.get(f)), _show(after.get(f))) for f in fields]


@org_view(Cap.VIEW_AUDIT)
def audit_log(request: HttpRequest) -> HttpResponse:
    """Every change and refused attempt in the organization, newest first."""
    # actor_name is frozen on the row, so no join on users is needed (and none per row).
    events = AuditEvent.objects.filter(organization=request.org).order_by("-created_at", "-id")
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [AuditRow(event, audit_changes(event)) for event in page]
    return render(request, "audit/events.html", {"page": page, "rows": rows})
