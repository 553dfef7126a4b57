"""Notification settings: channels of the organization (Admin+) and of each site (Developer+).

Thin: access, form, service, render. Organization-wide channels need ORG_SETTINGS; a site's
channels need EDIT_SITES, like the rest of the site's settings.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from notifications import selectors, services
from notifications.forms import ChannelForm
from notifications.models import Channel
from sites.models import Site
from tenancy.access import actor_for, audit_denied, org_object, org_view
from tenancy.roles import Cap, can


def _site(request: HttpRequest, site_id: int) -> Site:
    return org_object(Site, request.membership, pk=site_id)


def _channel(request: HttpRequest, pk: int) -> Channel:
    """The channel `pk` of the organization (404), if the member may manage its scope (403)."""
    channel = org_object(Channel, request.membership, pk=pk)
    cap = Cap.EDIT_SITES if channel.site_id else Cap.ORG_SETTINGS
    if not can(request.membership.role, cap):
        if request.method == "POST":
            audit_denied(request, request.membership, cap)
        raise PermissionDenied(f"Your role ({request.membership.role_label}) cannot do this.")
    return channel


def _to_scope(request: HttpRequest, site: Site | None) -> HttpResponse:
    if site is None:
        return redirect("notifications:org", org=request.org.slug)
    return redirect("notifications:site", org=request.org.slug, site_id=site.pk)


@org_view(Cap.ORG_SETTINGS)
@require_GET
def org_channels(request: HttpRequest) -> HttpResponse:
    channels = selectors.channel_list(org=request.org, site=None)
    return render(request, "notifications/channel_list.html", {"channels": channels, "site": None})


@org_view(Cap.EDIT_SITES)
@require_GET
def site_channels(request: HttpRequest, site_id: int) -> HttpResponse:
    site = _site(request, site_id)
    context = {"channels": selectors.channel_list(org=request.org, site=site), "site": site,
               "org_channels": selectors.channel_list(org=request.org, site=None)}
    return render(request, "notifications/channel_list.html", context)


@org_view(Cap.ORG_SETTINGS)
@require_http_methods(["GET", "POST"])
def org_channel_create(request: HttpRequest) -> HttpResponse:
    return _create(request, site=None)


@org_view(Cap.EDIT_SITES)
@require_http_methods(["GET", "POST"])
def site_channel_create(request: HttpRequest, site_id: int) -> HttpResponse:
    return _create(request, site=_site(request, site_id))


def _create(request: HttpRequest, site: Site | None) -> HttpResponse:
    form = ChannelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            channel = services.channel_create(organization=request.org, site=site,
                                              actor=actor_for(request), **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Channel {channel.name} added.")
            return redirect("notifications:edit", org=request.org.slug, pk=channel.pk)
    return render(request, "notifications/channel_form.html",
                  {"form": form, "site": site, "channel": None})


@org_view(Cap.VIEW)
@require_http_methods(["GET", "POST"])
def channel_edit(request: HttpRequest, pk: int) -> HttpResponse:
    channel = _channel(request, pk)
    form = ChannelForm.for_channel(channel, request.POST or None)
    if request.method == "POST" and form.is_valid():
        changes = {k: form.cleaned_data[k] for k in services.EDITABLE}
        try:
            services.channel_update(channel=channel, actor=actor_for(request), **changes)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Channel {channel.name} saved.")
            return _to_scope(request, channel.site)
    return render(request, "notifications/channel_form.html",
                  {"form": form, "site": channel.site, "channel": channel})


@org_view(Cap.VIEW)
@require_POST
def channel_delete(request: HttpRequest, pk: int) -> HttpResponse:
    channel = _channel(request, pk)
    services.channel_delete(channel=channel, actor=actor_for(request))
    messages.success(request, f"Channel {channel.name} deleted.")
    return _to_scope(request, channel.site)


@org_view(Cap.VIEW)
@require_POST
def channel_rotate_secret(request: HttpRequest, pk: int) -> HttpResponse:
    channel = _channel(request, pk)
    services.channel_rotate_secret(channel=channel, actor=actor_for(request))
    messages.success(request, "New signing secret created; update your receiver.")
    return redirect("notifications:edit", org=request.org.slug, pk=channel.pk)


@org_view(Cap.VIEW)
@require_POST
def channel_test(request: HttpRequest, pk: int) -> HttpResponse:
    channel = _channel(request, pk)
    services.channel_send_test(channel=channel, actor=actor_for(request))
    messages.info(request, "Test message queued; its result shows here in a few seconds.")
    return _to_scope(request, channel.site)
