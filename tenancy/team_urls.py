"""Team, invitations and audit pages, mounted under /o/<org>/ (the invitation link is top-level)."""

from __future__ import annotations

from django.urls import path

from tenancy.views import audit, org_security, team

urlpatterns = [
    path("team/", team.team, name="team"),
    path("team/invite/", team.team_invite, name="team-invite"),
    path("team/leave/", team.team_leave, name="team-leave"),
    path("team/transfer/", team.team_transfer, name="team-transfer"),
    path("team/<int:member_id>/role/", team.team_role, name="team-role"),
    path("team/<int:member_id>/remove/", team.team_remove, name="team-remove"),
    path(
        "team/invitations/<int:invitation_id>/revoke/",
        team.team_invite_revoke,
        name="team-invite-revoke",
    ),
    path("audit/", audit.audit_log, name="audit"),
    path("settings/security/", org_security.org_security, name="org-security"),
    path("settings/time-zone/", org_security.org_time_zone, name="org-time-zone"),
]
