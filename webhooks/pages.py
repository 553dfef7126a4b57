"""The site's webhook page: hook URLs, the secret (Developer+), rotation, recent deliveries.

Mounted with `path("o/<slug:org>/sites/<int:pk>/webhook/", include("webhooks.page_urls"))`.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from sites.models import Site
from sites.selectors import site_get
from tenancy.access import actor_for, org_view
from tenancy.roles import Cap
from webhooks.links import webhook_urls
from webhooks.secrets import webhook_secret_reveal, webhook_secret_rotate
from webhooks.selectors import delivery_list_recent

RECENT_DELIVERIES = 25
# How each provider is named and where its settings take the secret, for the setup table.
PROVIDER_HELP = {
    "github": ("GitHub", "Secret (signs X-Hub-Signature-256, SHA-256)"),
    "gitlab": ("GitLab", "Secret token (sent as X-Gitlab-Token)"),
    "bitbucket": ("Bitbucket Cloud", "Secret (signs X-Hub-Signature, SHA-256)"),
    "gitea": ("Gitea", "Secret (signs X-Gitea-Signature)"),
    "forgejo": ("Forgejo", "Secret (signs X-Forgejo-Signature)"),
    "custom": ("Custom JSON", "Standard Webhooks (webhook-id/-timestamp/-signature v1)"),
}


def _site(request: HttpRequest, pk: int) -> Site:
    site = site_get(org=request.org, pk=pk)
    if site is None:
        raise Http404("No such site")
    return site


@org_view(Cap.VIEW)
@require_GET
def webhook_settings(request: HttpRequest, pk: int) -> HttpResponse:
    """Everyone sees the URLs and deliveries; the secret is never on the page: Developer+
    reveal it on purpose (webhook_reveal)."""
    site = _site(request, pk)
    context = {
        "site": site,
        "providers": [(*PROVIDER_HELP[name], url) for name, url in webhook_urls(site).items()],
        "deliveries": delivery_list_recent(site=site, limit=RECENT_DELIVERIES),
    }
    return render(request, "webhooks/site_webhook.html", context)


@org_view(Cap.VIEW_SECRETS)
@never_cache  # carries the secret
@require_POST
def webhook_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """The secret, shown on purpose (created on first need). Audited."""
    site = _site(request, pk)
    secret = webhook_secret_reveal(site=site, actor=actor_for(request))
    template = "webhooks/_secret.html" if request.headers.get("HX-Request") else (
        "webhooks/secret_reveal.html"
    )
    return render(request, template, {"site": site, "secret": secret})


@org_view(Cap.EDIT_SITES)
@require_POST
def webhook_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    """Replace the secret; the git host must be given the new one. Audited."""
    site = _site(request, pk)
    webhook_secret_rotate(site=site, actor=actor_for(request))
    messages.success(request, "New webhook secret: update it at your git host now.")
    return redirect("site-webhook", org=request.org.slug, pk=site.pk)
