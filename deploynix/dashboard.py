"""What the organization dashboard shows. Apps add their panels here as they grow."""

from __future__ import annotations

from deploynix.models import Organization


def dashboard_context(org: Organization) -> dict:
    return {"org": org}
