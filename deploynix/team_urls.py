"""Team, invitations and audit pages (filled in by the team work)."""

from __future__ import annotations

urlpatterns: list = []
