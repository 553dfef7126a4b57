"""The tenancy core's models: users, organizations, memberships, invitations, audit, API tokens."""

from tenancy.models.audit import AuditEvent
from tenancy.models.devices import AuthenticatorDevice
from tenancy.models.orgs import Invitation, Membership, Organization, User, UserManager
from tenancy.models.sessions import UserSession
from tenancy.models.tokens import Ability, ApiToken, ApiTokenQuerySet

__all__ = [
    "Ability",
    "ApiToken",
    "ApiTokenQuerySet",
    "AuditEvent",
    "AuthenticatorDevice",
    "Invitation",
    "Membership",
    "Organization",
    "User",
    "UserManager",
    "UserSession",
]
