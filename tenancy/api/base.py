"""Base classes for token-authenticated, organization-scoped API views."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from rest_framework import exceptions, generics
from rest_framework.views import exception_handler

from tenancy.api.authentication import BearerTokenAuthentication
from tenancy.api.permissions import TokenAbility
from tenancy.audit import Actor
from tenancy.models import AuditEvent, Organization
from tenancy.services.tokens import TokenGrant


def api_exception_handler(exc, context):
    """DRF's handler, plus the services' Django ValidationError as a 400 with field errors."""
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, IntegrityError):
        # A unique constraint lost to a concurrent request: a conflict, not a crash.
        exc = exceptions.ValidationError({"detail": ["Conflicts with an existing object."]})
    return exception_handler(exc, context)


class OrgAPIView(generics.GenericAPIView):
    """Authenticated by a bearer token; everything is read and written inside its organization."""

    authentication_classes = [BearerTokenAuthentication]
    permission_classes = [TokenAbility]
    abilities: dict = {}
    extra_caps: dict = {}

    def get_exception_handler(self):
        return api_exception_handler

    @property
    def grant(self) -> TokenGrant:
        return self.request.auth

    @property
    def org(self) -> Organization:
        return self.grant.organization

    @property
    def actor(self) -> Actor:
        """The token's user, through the API door (audit rows say source=api)."""
        return Actor(user=self.grant.membership.user, source=AuditEvent.Source.API,
                     ip=self.request.META.get("REMOTE_ADDR") or None, token=self.grant.token)
