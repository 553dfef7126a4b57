"""Server pages and the organization SSH key page. Thin: access, form, service, render."""

from __future__ import annotations

from pathlib import Path

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from servers import selectors, services
from servers.checks import FACT_LABELS
from servers.forms import ServerForm
from servers.models import Server
from servers.ssh import fingerprint
from servers.stack.report import SETUP_DOC
from tenancy.access import actor_for, org_view
from tenancy.roles import Cap

SETUP_GUIDE = Path(__file__).resolve().parent.parent / SETUP_DOC


def _server(request: HttpRequest, pk: int) -> Server:
    """The server `pk` of the request's organization, or 404 (other organizations included)."""
    server = selectors.server_get(org=request.org, pk=pk)
    if server is None:
        raise Http404("No such server")
    return server


def _to_detail(request: HttpRequest, server: Server) -> HttpResponse:
    return redirect("servers:detail", org=request.org.slug, pk=server.pk)


@org_view(Cap.VIEW)
@require_GET
def server_list(request: HttpRequest) -> HttpResponse:
    """The organization's servers with status, last check and host key (everyone)."""
    servers = selectors.server_list(org=request.org)
    return render(request, "servers/server_list.html", {"servers": servers})


@org_view(Cap.VIEW)
@require_GET
def server_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One server: connection, pinned key, last check result, facts (everyone)."""
    server = _server(request, pk)
    facts = [(label, server.facts.get(key)) for key, label in FACT_LABELS]
    presented = fingerprint(server.presented_host_key) if server.presented_host_key else ""
    nginx_roots, site_stacks = selectors.server_stack_report(server)
    context = {
        "server": server,
        "facts": facts,
        "presented_fingerprint": presented,
        "nginx_roots": nginx_roots,
        "site_stacks": site_stacks,
        "stack_notes": server.stack.get("notes", []),
        "php": server.stack.get("php") or {},
        "setup_doc": SETUP_DOC,
    }
    return render(request, "servers/server_detail.html", context)


@org_view(Cap.VIEW)
@require_GET
def setup_guide(request: HttpRequest) -> HttpResponse:
    """docs/server-setup.md as plain text: the recommended stack the findings point to."""
    try:
        text = SETUP_GUIDE.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise Http404("The setup guide is not installed") from None
    return HttpResponse(text, content_type="text/plain; charset=utf-8")


@org_view(Cap.MANAGE_SERVERS)
@require_http_methods(["GET", "POST"])
def server_create(request: HttpRequest) -> HttpResponse:
    """Add a server (Manager+); its first check is queued after commit."""
    form = ServerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            server = services.server_create(
                org=request.org, actor=actor_for(request), **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Server {server.name} added; checking the connection.")
            return _to_detail(request, server)
    return render(request, "servers/server_form.html", {"form": form, "server": None})


@org_view(Cap.MANAGE_SERVERS)
@require_http_methods(["GET", "POST"])
def server_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change name, host, port or user (Manager+)."""
    server = _server(request, pk)
    form = ServerForm.for_server(server, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.server_update(server=server, actor=actor_for(request), **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Server {server.name} saved.")
            return _to_detail(request, server)
    return render(request, "servers/server_form.html", {"form": form, "server": server})


@org_view(Cap.MANAGE_SERVERS)
@require_http_methods(["GET", "POST"])
def server_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm (GET), then delete (POST) a server (Manager+)."""
    server = _server(request, pk)
    if request.method == "POST":
        services.server_delete(server=server, actor=actor_for(request))
        messages.success(request, f"Server {server.name} deleted.")
        return redirect("servers:list", org=request.org.slug)
    return render(request, "servers/server_confirm_delete.html", {"server": server})


@org_view(Cap.MANAGE_SERVERS)
@require_POST
def server_check(request: HttpRequest, pk: int) -> HttpResponse:
    """Queue a connection check (Manager+, POST)."""
    server = _server(request, pk)
    services.server_check_request(server=server, actor=actor_for(request))
    messages.info(request, "Connection check queued; reload in a few seconds.")
    return _to_detail(request, server)


@org_view(Cap.MANAGE_SERVERS)
@require_POST
def server_repin(request: HttpRequest, pk: int) -> HttpResponse:
    """Pin the confirmed presented key, or forget the pin (Manager+, POST)."""
    server = _server(request, pk)
    confirmed = request.POST.get("fingerprint", "")
    try:
        services.server_repin(
            server=server, actor=actor_for(request), presented_fingerprint=confirmed
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        pinned = f"pinned {confirmed}" if confirmed else "forgotten; the next check pins it"
        messages.success(request, f"Host key {pinned}. Checking the connection.")
    return _to_detail(request, server)


@org_view(Cap.VIEW)
@require_GET
def ssh_key(request: HttpRequest) -> HttpResponse:
    """The organization's public key, how to authorize it, rotation progress (everyone)."""
    context = {
        "key": selectors.organization_key_active(org=request.org),
        "pending_keys": list(selectors.organization_keys_pending(org=request.org)),
        "waiting_servers": list(selectors.servers_not_on_active_key(org=request.org)),
    }
    return render(request, "servers/ssh_key.html", context)


@org_view(Cap.ORG_SETTINGS)
@require_POST
def ssh_key_rotate(request: HttpRequest) -> HttpResponse:
    """Generate a new active key; the old one stays valid for now (Admin+, POST)."""
    key = services.organization_key_rotate(org=request.org, actor=actor_for(request))
    messages.success(request, f"New SSH key {key.fingerprint}. Authorize it on every server.")
    return redirect("servers:ssh-key", org=request.org.slug)
