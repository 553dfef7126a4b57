"""Queued work is re-authorized when it starts.

A deployment may wait in the queue for minutes behind another one; meanwhile its requester can
be removed, demoted or deactivated, their API token revoked, or the site's auto-deploy turned
off. The worker asks `requester_refusal` right after the claim, before anything touches a
server; a refusal ends the deployment `cancelled` (deployments/worker.py).
"""

from __future__ import annotations

from deployments.models import Authority, Deployment, Kind, Trigger
from tenancy.audit import Actor
from tenancy.models import Ability, ApiToken, Membership
from tenancy.roles import Cap, can
from tenancy.services.tokens import TokenGrant

REFUSED = "requester no longer authorized"


def authority_of(actor: Actor, trigger: str) -> tuple[str, ApiToken | None]:
    """The authority a new deployment requested by `actor` through `trigger` rests on."""
    if actor.token is not None:
        return Authority.TOKEN, actor.token
    if actor.user is not None:
        return Authority.MEMBER, None
    if trigger == Trigger.WEBHOOK:
        return Authority.WEBHOOK, None
    return Authority.NONE, None


def requester_refusal(deployment: Deployment) -> str:
    """Why `deployment` may no longer run ("" when it may), as `REFUSED: <why>`."""
    check = {Authority.MEMBER: _member_refusal, Authority.TOKEN: _token_refusal,
             Authority.WEBHOOK: _webhook_refusal}.get(deployment.authority)
    why = check(deployment) if check is not None else ""
    return f"{REFUSED}: {why}" if why else ""


def _member_refusal(deployment: Deployment) -> str:
    user = deployment.triggered_by
    if user is None or not user.is_active:
        return f"{deployment.triggered_by_name} no longer has an active account"
    role = _role(user.pk, deployment.organization_id)
    if role is None:
        return f"{deployment.triggered_by_name} is no longer a member of the organization"
    if not can(role, _needed(deployment)):
        return f"{deployment.triggered_by_name} may no longer {_verb(deployment)}"
    return ""


def _token_refusal(deployment: Deployment) -> str:
    token = (
        ApiToken.objects.usable().select_related("user")
        .filter(pk=deployment.api_token_id, organization_id=deployment.organization_id).first()
    )
    if token is None:
        return "its API token was revoked, expired or deleted"
    membership = Membership.objects.filter(
        user_id=token.user_id, organization_id=deployment.organization_id).first()
    if membership is None or not token.user.is_active:
        return f"{token.user.email} is no longer an active member of the organization"
    allowed = TokenGrant(token=token, membership=membership).allows(Ability.SITE_DEPLOY)
    if not allowed or not can(membership.role, _needed(deployment)):
        return f"the API token of {token.user.email} may no longer {_verb(deployment)}"
    return ""


def _needed(deployment: Deployment) -> Cap:
    """Provisioning needs more than deploying (tenancy/roles.py)."""
    return Cap.PROVISION if deployment.kind == Kind.PROVISION else Cap.DEPLOY


def _verb(deployment: Deployment) -> str:
    return "provision" if deployment.kind == Kind.PROVISION else "deploy"


def _webhook_refusal(deployment: Deployment) -> str:
    if not deployment.site.auto_deploy:
        return "auto-deploy was turned off for the site's webhook"
    return ""


def _role(user_id: int, organization_id: int) -> int | None:
    return (
        Membership.objects.filter(user_id=user_id, organization_id=organization_id)
        .values_list("role", flat=True).first()
    )
