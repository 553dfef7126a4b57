"""Deployment pages: the organization's recent deployments, one deployment, Cancel."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from deployments import selectors
from deployments.models import Deployment
from deployments.services import DeploymentError, deployment_cancel
from deploynix.access import actor_for, org_object, org_view
from deploynix.roles import Cap

LIST_PAGE_SIZE = 50
# The page renders this many stored lines; the live log streams the rest (and the download has all).
LOG_LINES_ON_PAGE = 5000


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
    context = {
        "deployment": deployment,
        "site": deployment.site,
        "steps": list(deployment.steps.order_by("order")),
        "lines": selectors.log_lines_after(deployment=deployment, limit=LOG_LINES_ON_PAGE),
    }
    return render(request, "deployments/deployment_detail.html", context)


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
