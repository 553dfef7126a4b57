"""The environment editor and the hooks page of a site (thin: access, form, service, render).

The environment is saved as a new version (sites.services.site_env_update) that goes live with
the next deploy, written into that release; the site page says what changed since the live one.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from sites import selectors, services
from sites.env_forms import DotenvImportForm, HooksForm, env_rows_for
from sites.views import _site
from tenancy.access import actor_for, org_view
from tenancy.roles import Cap


def _editor(request: HttpRequest, site, rows, paste, status: int = 200,
            errors: list[str] = ()) -> HttpResponse:
    latest = selectors.env_version_latest(site=site)
    return render(request, "sites/site_environment.html", {
        "site": site, "rows": rows, "paste": paste, "latest": latest, "errors": list(errors),
        "next_number": (latest.number if latest else 0) + 1,
    }, status=status)


@org_view(Cap.EDIT_SITES)
@never_cache
@require_http_methods(["GET", "POST"])
def site_environment(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit the variables as rows; Save makes a new version (names audited, never values)."""
    site = _site(request, pk)
    rows = env_rows_for(site, data=request.POST or None)
    if request.method == "GET":
        return _editor(request, site, rows, DotenvImportForm())
    if not rows.is_valid():
        return _editor(request, site, rows, DotenvImportForm(), status=400)
    try:
        env, secret = rows.environment()
        version = services.site_env_update(site=site, actor=actor_for(request), env=env,
                                           secret_env_names=secret)
    except ValidationError as exc:
        return _editor(request, site, rows, DotenvImportForm(), 400, exc.messages)
    messages.success(request, f"Environment saved as version {version.number}: it applies "
                     "at the next deploy." if version else "Nothing changed.")
    return redirect("sites:detail", org=request.org.slug, pk=site.pk)


@org_view(Cap.EDIT_SITES)
@never_cache
@require_POST
def site_environment_import(request: HttpRequest, pk: int) -> HttpResponse:
    """Read a pasted .env into the rows for review; nothing is saved until Save."""
    site = _site(request, pk)
    paste = DotenvImportForm(request.POST)
    if not paste.is_valid():
        return _editor(request, site, env_rows_for(site), paste, status=400)
    pasted = paste.cleaned_data["dotenv"]
    rows = env_rows_for(site, env={**_shown_env(site), **pasted},
                        secret=[n for n in site.secret_env_names if n not in pasted])
    messages.info(request, f"Read {len(pasted)} variables: review them, then Save.")
    return _editor(request, site, rows, DotenvImportForm())


def _shown_env(site) -> dict[str, str]:
    """The stored variables as the rows show them (secret values masked)."""
    return {row["name"]: row["value"] for row in env_rows_for(site).initial}


@org_view(Cap.EDIT_HOOKS)
@require_http_methods(["GET", "POST"])
def site_hooks(request: HttpRequest, pk: int) -> HttpResponse:
    """A script and a timeout per hook point; an empty script removes that hook."""
    site = _site(request, pk)
    form = HooksForm(request.POST or None, site=site)
    if request.method == "POST" and form.is_valid():
        try:
            services.site_hooks_update(site=site, actor=actor_for(request), hooks=form.hooks())
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Hooks saved: they run from the next deploy.")
            return redirect("sites:detail", org=request.org.slug, pk=site.pk)
    return render(request, "sites/site_hooks.html", {"site": site, "form": form},
                  status=400 if request.method == "POST" else 200)
