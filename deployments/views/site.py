"""A site's deployment pages: History, and the Deploy, Reconcile and Rollback buttons.

Mounted in the `sites` URL namespace (deploynix/site_urls.py) so their paths and names stay
under the site; they belong here because deploying is this app's job.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from deployments import reconcile, selectors
from deployments.forms import ProvisionForm
from deployments.models import Kind, Trigger
from deployments.plan import destructive_text, destructive_to_confirm, site_plan
from deployments.provisioning import ProvisionSettings, provision_preview, provision_request
from deployments.release_diff import kept_migrations
from deployments.rollback_plan import NotARollbackTarget, rollback_plan
from deployments.services import DeploymentError, deployment_request, rollback_request
from servers.stack.fixes import fix_step
from sites.freezes import active_freeze
from sites.models import Site
from sites.selectors import site_get
from tenancy.access import actor_for, org_view
from tenancy.roles import Cap

HISTORY_PAGE_SIZE = 25


def _site(request: HttpRequest, pk: int) -> Site:
    """The site `pk` of the request's organization, or 404 (other organizations included)."""
    site = site_get(org=request.org, pk=pk)
    if site is None:
        raise Http404("No such site")
    return site


def _to_site(request: HttpRequest, site: Site) -> HttpResponse:
    return redirect("sites:detail", org=request.org.slug, pk=site.pk)


@org_view(Cap.VIEW)
@require_GET
def site_history(request: HttpRequest, pk: int) -> HttpResponse:
    site = _site(request, pk)
    page = Paginator(selectors.deployment_history(site=site), HISTORY_PAGE_SIZE)
    truth = selectors.site_truth(site=site)
    targets = selectors.rollback_targets(site=site, truth=truth)
    rows = page.get_page(request.GET.get("page"))
    offered = {target.release for target in targets}
    kept = kept_migrations(site=site, live=selectors.live_commit(site=site, truth=truth),
                           commits={t.release: t.commit for t in targets if t.commit})
    live = selectors.live_rows(site=site, truth=truth)
    for row in rows:
        # The rollback list decides (selectors.rollback_targets); a row only shows it.
        row.offers_rollback = row.kind == Kind.DEPLOY and row.release in offered
        row.live_on = live.get(row.pk, ())
        row.live_everywhere = bool(row.live_on) and len(row.live_on) == len(truth.servers)
    context = {
        "site": site,
        "page": rows,
        "truth": truth,
        "targets": targets,
        # During a freeze, Redeploy asks for the override reason (deployments/gates.py).
        "freeze": active_freeze(site, timezone.now()) if request.can.deploy else None,
        # (target, the migrations a rollback to it leaves applied, as far as known)
        "target_rows": [(target, kept.get(target.release, [])) for target in targets],
    }
    return render(request, "deployments/site_history.html", context)


@org_view(Cap.DEPLOY)
@require_POST
def site_deploy(request: HttpRequest, pk: int) -> HttpResponse:
    site = _site(request, pk)
    commit = (request.POST.get("commit") or "").strip()[:64] or None
    if request.POST.get("confirm_destructive") != "1":
        # The button's own checkbox asks first; this is the check a forged POST meets.
        destructive = destructive_to_confirm(site=site, commit=commit)
        if destructive:
            messages.error(request, "This deploy runs destructive migrations; tick the "
                                    f"confirmation to deploy: {destructive_text(destructive)}.")
            return redirect(_plan_url(request, site, commit))
    try:
        deployment = deployment_request(
            site=site, actor=actor_for(request), trigger=Trigger.MANUAL,
            commit=commit, force=request.POST.get("force") == "1",
            freeze_override=request.POST.get("freeze_override"),
        )
    except DeploymentError as exc:
        messages.error(request, str(exc))
        return _to_site(request, site)
    return redirect("deployments:detail", org=request.org.slug, pk=deployment.pk)


@org_view(Cap.DEPLOY)
@require_GET
def site_plan_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The dry run of a deploy (deployments/plan.py): steps and commands per server, the
    release diff and the warnings; reads the servers, changes nothing."""
    site = _site(request, pk)
    commit = request.GET.get("commit", "").strip()[:64]
    try:
        plan = site_plan(site=site, commit=commit or None)
    except ValueError as exc:
        messages.error(request, str(exc))
        return _to_site(request, site)
    # During a freeze its Deploy asks for the override reason too (deployments/gates.py).
    context = {"site": site, "plan": plan, "freeze": active_freeze(site, timezone.now())}
    return render(request, "deployments/site_plan.html", context)


@org_view(Cap.DEPLOY)
@require_GET
def site_plan_button(request: HttpRequest, pk: int) -> HttpResponse:
    """The site page's Deploy button with the plan's summary, warnings and, when destructive
    migrations would run, the confirmation (loaded after the page: it reads the servers)."""
    site = _site(request, pk)
    plan = site_plan(site=site)
    return render(request, "deployments/_plan_button.html", {"site": site, "plan": plan})


def _plan_url(request: HttpRequest, site: Site, commit: str | None) -> str:
    url = reverse("sites:plan", kwargs={"org": request.org.slug, "pk": site.pk})
    return f"{url}?{urlencode({'commit': commit})}" if commit else url


@org_view(Cap.DEPLOY)
@require_POST
def site_reconcile(request: HttpRequest, pk: int) -> HttpResponse:
    """Read every server of the site now and record what is live there (audited)."""
    site = _site(request, pk)
    report = reconcile.site_reconcile(site=site, actor=actor_for(request))
    for seen in report.servers:
        if seen.error:
            messages.error(request, f"{seen.server} could not be read: {seen.error}")
        for sentence in seen.drift:
            messages.error(request, f"Drift on {seen.server}: {sentence}")
    if not report.drift and not any(seen.error for seen in report.servers):
        messages.success(request, f"Reconciled {site.name}: the servers agree with the panel.")
    return _to_site(request, site)


@org_view(Cap.DEPLOY)
@require_POST
def site_rollback(request: HttpRequest, pk: int, release: str) -> HttpResponse:
    site = _site(request, pk)
    try:
        deployment = rollback_request(
            site=site, release=release, actor=actor_for(request), trigger=Trigger.MANUAL
        )
    except DeploymentError as exc:
        messages.error(request, str(exc))
        return redirect("sites:history", org=request.org.slug, pk=site.pk)
    return redirect("deployments:detail", org=request.org.slug, pk=deployment.pk)


@org_view(Cap.DEPLOY)
@require_GET
def site_rollback_plan(request: HttpRequest, pk: int, release: str) -> HttpResponse:
    """Before a rollback: the release that becomes live, the commits that go away and the
    migrations the database keeps; its button queues the rollback."""
    site = _site(request, pk)
    try:
        plan = rollback_plan(site=site, release=release)
    except NotARollbackTarget as exc:
        messages.error(request, str(exc))
        return redirect("sites:history", org=request.org.slug, pk=site.pk)
    return render(request, "deployments/rollback_plan.html", {"site": site, "plan": plan})


@org_view(Cap.PROVISION)
@require_POST
def site_provision(request: HttpRequest, pk: int) -> HttpResponse:
    """Queue provisioning the site on its servers, with the panel's settings (Manager+)."""
    site = _site(request, pk)
    form = ProvisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return _to_site(request, site)
    data = form.cleaned_data
    settings = ProvisionSettings(
        scheduler=data["scheduler"], certificate=data["certificate"] or None,
        private_key=data["private_key"] or None, remove_certificate=data["remove_certificate"])
    try:
        deployment = provision_request(site=site, actor=actor_for(request),
                                       trigger=Trigger.MANUAL, settings=settings)
    except DeploymentError as exc:
        messages.error(request, str(exc))
        return _to_site(request, site)
    return redirect("deployments:detail", org=request.org.slug, pk=deployment.pk)


@org_view(Cap.PROVISION)
@require_http_methods(["GET", "POST"])
def site_stack_fix(request: HttpRequest, pk: int, server_pk: int, code: str) -> HttpResponse:
    """GET: the diff the finding's provisioning step would make on the server (a dry run).
    POST: queue that step on the site's servers; the job re-checks them when it ends."""
    site = _site(request, pk)
    server = site.servers.filter(pk=server_pk).first()
    step = fix_step(code)
    if server is None or step is None:
        raise Http404("No such finding")
    try:
        if request.method == "POST":
            job = provision_request(site=site, actor=actor_for(request), trigger=Trigger.MANUAL,
                                    steps=[step])
            return redirect("deployments:detail", org=request.org.slug, pk=job.pk)
        preview = provision_preview(site=site, server=server, step=step)
    except DeploymentError as exc:
        messages.error(request, str(exc))
        return _to_site(request, site)
    context = {"site": site, "server": server, "code": code, "step": step, "preview": preview}
    return render(request, "deployments/stack_fix.html", context)
