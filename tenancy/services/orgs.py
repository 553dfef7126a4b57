"""Organizations and sign-up."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.utils.text import slugify

from tenancy.audit import Actor, audit_record
from tenancy.models import Membership, Organization, User
from tenancy.roles import Role

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
    """Create an organization with `owner` as its only Owner. Audited."""
    org = Organization.objects.create(name=name, slug=slug or _unique_slug(name))
    Membership.objects.create(user=owner, organization=org, role=Role.OWNER)
    for hook in ORGANIZATION_CREATED_HOOKS:
        hook(org)
    audit_record(actor=actor, organization=org, verb="organization.create", target=org,
                 after={"name": name, "slug": org.slug})
    return org


@transaction.atomic
def user_signup(
    *, email: str, password: str, name: str, org_name: str, ip: str | None = None
) -> tuple[User, Organization]:
    """Create a user and their first organization, with them as Owner."""
    user = User.objects.create_user(email=email, password=password, name=name)
    org = organization_create(name=org_name, owner=user, actor=Actor(user=user, ip=ip))
    return user, org
