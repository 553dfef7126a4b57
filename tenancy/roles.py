"""Roles and capabilities: the one module that decides who may do what.

Capabilities are an explicit table, never `role >= n` comparisons scattered around. The only
rank comparison lives here too (`outranks`), for "only members below your own rank".
"""

from __future__ import annotations

from enum import StrEnum

from django.db import models


class Role(models.IntegerChoices):
    OWNER = 100, "Owner"
    ADMIN = 80, "Admin"
    MANAGER = 60, "Manager"
    DEVELOPER = 40, "Developer"
    VIEWER = 20, "Viewer"


class Cap(StrEnum):
    VIEW = "view"  # servers, sites, deployments, live logs, members
    VIEW_SECRETS = "view_secrets"  # environment values, webhook secrets
    DEPLOY = "deploy"  # deploy, cancel, roll back, schedule
    EDIT_SITES = "edit_sites"  # create and edit sites (repository, env, scripts)
    EDIT_HOOKS = "edit_hooks"  # a site's hooks (scripts run around the deploy steps)
    # delete sites; add/edit/delete servers and load balancers, apply their config; re-pin host keys
    MANAGE_SERVERS = "manage_servers"
    # add, edit, delete a site's workers and daemons (long-running processes on its servers)
    MANAGE_WORKERS = "manage_workers"
    # provision a site on its servers: its unix user, PHP-FPM pool, nginx block, cron entry
    PROVISION = "provision"
    VIEW_AUDIT = "view_audit"
    MANAGE_MEMBERS = "manage_members"  # invite, change role of, remove (only below own rank)
    ORG_SETTINGS = "org_settings"  # organization settings, SSH key rotation
    OWN = "own"  # delete the organization, transfer ownership
    # Approve or reject a deployment awaiting approval: never the requester's own, and only
    # from the site's chosen approval role up (`may_approve`).
    APPROVE_DEPLOYS = "approve_deploys"
    ORG_FREEZES = "org_freezes"  # add and remove the organization's freeze windows
    SITE_GATES = "site_gates"  # a site's approval rule and freeze windows


_O, _A, _M, _D, _V = Role.OWNER, Role.ADMIN, Role.MANAGER, Role.DEVELOPER, Role.VIEWER

CAPABILITIES: dict[Cap, frozenset[Role]] = {
    Cap.VIEW: frozenset({_O, _A, _M, _D, _V}),
    Cap.VIEW_SECRETS: frozenset({_O, _A, _M, _D}),
    Cap.DEPLOY: frozenset({_O, _A, _M, _D}),
    Cap.EDIT_SITES: frozenset({_O, _A, _M, _D}),
    Cap.EDIT_HOOKS: frozenset({_O, _A, _M}),
    Cap.MANAGE_SERVERS: frozenset({_O, _A, _M}),
    Cap.MANAGE_WORKERS: frozenset({_O, _A, _M}),
    Cap.PROVISION: frozenset({_O, _A, _M}),
    Cap.VIEW_AUDIT: frozenset({_O, _A, _M}),
    Cap.MANAGE_MEMBERS: frozenset({_O, _A}),
    Cap.ORG_SETTINGS: frozenset({_O, _A}),
    Cap.OWN: frozenset({_O}),
    Cap.APPROVE_DEPLOYS: frozenset({_O, _A, _M, _D}),
    Cap.ORG_FREEZES: frozenset({_O, _A}),
    Cap.SITE_GATES: frozenset({_O, _A, _M}),
}
# The roles a site may require for approving its deploys (the approver's role or higher).
APPROVAL_ROLES = (Role.DEVELOPER, Role.MANAGER, Role.ADMIN, Role.OWNER)


def can(role: int, cap: Cap) -> bool:
    """True when `role` holds capability `cap`."""
    return role in CAPABILITIES[cap]


def capabilities_of(role: int) -> frozenset[Cap]:
    return frozenset(cap for cap, roles in CAPABILITIES.items() if role in roles)


def may_approve(role: int, required_role: int) -> bool:
    """True when a member of `role` may approve a deploy that needs `required_role` or higher."""
    return can(role, Cap.APPROVE_DEPLOYS) and role >= required_role


def outranks(actor_role: int, other_role: int) -> bool:
    """Members may only manage members strictly below their own rank."""
    return actor_role > other_role


def assignable_roles(actor_role: int) -> list[Role]:
    """Roles `actor_role` may grant: strictly below its own rank, never Owner (a transfer)."""
    if not can(actor_role, Cap.MANAGE_MEMBERS):
        return []
    return [r for r in Role if r != Role.OWNER and outranks(actor_role, r)]
