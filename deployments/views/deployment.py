"""Deployment pages: the organization's recent deployments, one deployment, Cancel, the raw log."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST

from deployments import selectors
from deployments.charts import steps_bar
from deployments.gates import approver_refusal
from deployments.models import Deployment, Trigger
from deployments.phases import balancer_step, server_phases
from deployments.pipeline import DEPLOY_STEPS, ROLLBACK_STEPS
from deployments.release_diff import deployment_changes
from deployments.services import DeploymentError, deployment_cancel, deployment_redeploy
from deployments.views.log import LOG_LINES_ON_PAGE
from loadbalancers.selectors import balanced_sites_of_site
from sites.freezes import active_freeze
from tenancy.access import actor_for, org_object, org_view
from tenancy.roles import Cap

LIST_PAGE_SIZE = 50


@org_view(Cap.VIEW)
@require_GET
def deployment_list(request: HttpRequest) -> HttpResponse:
    deployments = selectors.deployment_list(org=request.org)
    page = Paginator(deployments, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "deployments/deployment_list.html", {"page": page})


@org_view(Cap.VIEW)
@require_GET
def deployment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    deployment = org_object(Deployment, request.membership, pk=pk)
    steps = list(deployment.steps.order_by("order"))
    context = {
        "deployment": deployment,
        "env_version": selectors.env_version_shipped(deployment),
        "site": deployment.site,
        "steps": steps,
        "step_bar": mark_safe(steps_bar(steps)),  # noqa: S308 — numbers + escaped text only
        **_progress(deployment, steps),
        # The newest lines only: earlier ones on demand (views/log.py), later ones live.
        "lines": selectors.log_lines_tail(deployment_id=deployment.pk, limit=LOG_LINES_ON_PAGE),
        **_rollout(deployment, steps),
        # During a freeze, Redeploy asks for the override reason (deployments/gates.py).
        "freeze": (active_freeze(deployment.site, timezone.now())
                   if request.can.deploy else None),
        # Approve/Reject are offered only to who may answer (the service decides again).
        "can_answer": deployment.awaits_approval and not approver_refusal(
            deployment, actor_for(request), request.membership.role),
    }
    return render(request, "deployments/deployment_detail.html", context)


@org_view(Cap.VIEW)
@require_GET
def deployment_rollout(request: HttpRequest, pk: int) -> HttpResponse:
    """The servers' phases and the balancer's state alone (re-fetched on each step event)."""
    deployment = org_object(Deployment, request.membership, pk=pk)
    context = {"deployment": deployment,
               **_rollout(deployment, list(deployment.steps.order_by("order")))}
    return render(request, "deployments/_rollout_panel.html", context)


def _rollout(deployment: Deployment, steps: list) -> dict:
    """Each server's phase (deployments/phases.py) and the balancers in front of the site."""
    servers = [server.name for server in deployment.site.servers.order_by("name", "id")]
    return {
        "phases": server_phases(steps, servers),
        "balanced_by": list(balanced_sites_of_site(site=deployment.site)),
        "balancer_step": balancer_step(steps),
    }


@org_view(Cap.VIEW)
@require_GET
def deployment_changes_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The release diff and its warnings (loaded after the page: it may read a server's git
    mirror once; then it is kept)."""
    deployment = org_object(Deployment, request.membership, pk=pk)
    changes, unknown = deployment_changes(deployment)
    return render(request, "deployments/_deployment_changes.html",
                  {"deployment": deployment, "changes": changes, "unknown": unknown})


@org_view(Cap.VIEW)
@require_GET
def deployment_props(request: HttpRequest, pk: int) -> HttpResponse:
    """The facts panel alone: release, commit and duration change as the deployment runs."""
    deployment = org_object(Deployment, request.membership, pk=pk)
    return render(request, "deployments/_deployment_props.html", {
        "deployment": deployment, "env_version": selectors.env_version_shipped(deployment)})


def _progress(deployment: Deployment, steps: list) -> dict:
    """Finished steps out of the steps this kind of deployment runs on each of its servers."""
    names = ROLLBACK_STEPS if deployment.is_rollback else DEPLOY_STEPS
    total = len(names) * max(deployment.site.servers.count(), 1)
    done = sum(1 for step in steps if step.status in ("succeeded", "skipped"))
    return {"steps_done": min(done, total), "steps_total": total}


@org_view(Cap.DEPLOY)
@require_POST
def deployment_cancel_view(request: HttpRequest, pk: int) -> HttpResponse:
    deployment = org_object(Deployment, request.membership, pk=pk)
    try:
        deployment_cancel(deployment=deployment, actor=actor_for(request))
    except DeploymentError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Cancelling: the deployment stops within a second or two.")
    return redirect("deployments:detail", org=request.org.slug, pk=deployment.pk)


@org_view(Cap.DEPLOY)
@require_POST
def deployment_redeploy_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Redeploy this commit: a new deploy of the site pinned to the commit this one deployed."""
    source = org_object(Deployment, request.membership, pk=pk)
    try:
        deployment = deployment_redeploy(
            deployment=source, actor=actor_for(request), trigger=Trigger.MANUAL,
            freeze_override=request.POST.get("freeze_override"))
    except DeploymentError as exc:
        messages.error(request, str(exc))
        return redirect("deployments:detail", org=request.org.slug, pk=source.pk)
    return redirect("deployments:detail", org=request.org.slug, pk=deployment.pk)
