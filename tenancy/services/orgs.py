"""Organizations: creation and their settings (two-factor rule, time zone)."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.text import slugify

from tenancy.audit import Actor, audit_record
from tenancy.models import Membership, Organization, User
from tenancy.roles import Cap, Role, can
from tenancy.timezones import clean_time_zone
from tenancy.two_factor import has_two_factor

# Other apps register work that must happen when an organization is created (e.g. servers
# generates the organization's SSH key pair), inside the same transaction.
ORGANIZATION_CREATED_HOOKS: list[Callable[[Organization], None]] = []


def _unique_slug(name: str) -> str:
    base = slugify(name)[:50] or "org"
    slug, n = base, 2
    while Organization.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


@transaction.atomic
def organization_create(
    *, name: str, owner: User, actor: Actor, slug: str | None = None
) -> Organization:
    """Create an organization with `owner` as its only Owner. Audited.

    Refused (ValidationError) while the owner's e-mail address is not verified.
    """
    if not owner.email_verified:
        raise ValidationError("Confirm your e-mail address first: open the link we sent you.")
    org = Organization.objects.create(name=name, slug=slug or _unique_slug(name))
    Membership.objects.create(user=owner, organization=org, role=Role.OWNER)
    for hook in ORGANIZATION_CREATED_HOOKS:
        hook(org)
    audit_record(actor=actor, organization=org, verb="organization.create", target=org,
                 after={"name": name, "slug": org.slug})
    return org


def _settings_org(actor: Actor, organization: Organization) -> Organization:
    """The organization row, locked, once the actor is known to hold ORG_SETTINGS."""
    org = Organization.objects.select_for_update().get(pk=organization.pk)
    me = Membership.objects.filter(organization=org, user=actor.user).first()
    if me is None or not can(me.role, Cap.ORG_SETTINGS):
        raise PermissionDenied("Your role cannot change the organization's settings.")
    return org


@transaction.atomic
def organization_set_time_zone(
    *, actor: Actor, organization: Organization, time_zone: str
) -> Organization:
    """Set the zone schedules are typed and shown in. Audited; needs ORG_SETTINGS.

    Stored schedules keep their instant (UTC); only how they are shown changes.
    """
    time_zone = clean_time_zone(time_zone)
    org = _settings_org(actor, organization)
    before = org.time_zone
    if before != time_zone:
        org.time_zone = time_zone
        org.save(update_fields=["time_zone"])
        audit_record(actor=actor, organization=org, verb="organization.time_zone",
                     target=org, before={"time_zone": before}, after={"time_zone": time_zone})
    return org


@transaction.atomic
def organization_require_two_factor(
    *, actor: Actor, organization: Organization, required: bool
) -> Organization:
    """Turn on or off "Owners and Admins must use two-factor". Audited.

    Needs ORG_SETTINGS (PermissionDenied). Turning it on needs two-factor on the actor's own
    account first (ValidationError): otherwise the change would lock its author out at once.
    """
    org = _settings_org(actor, organization)
    if required and not has_two_factor(actor.user):
        raise ValidationError("Set up two-factor authentication on your own account first.")
    before = org.require_two_factor
    if before != required:
        org.require_two_factor = required
        org.save(update_fields=["require_two_factor"])
        audit_record(actor=actor, organization=org, verb="organization.require_two_factor",
                     target=org, before={"required": before}, after={"required": required})
    return org
