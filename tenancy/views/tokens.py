"""The tokens page (/tokens/): a user lists, creates (shown once) and revokes their API tokens.

Mounted with `path("tokens/", include("tenancy.views.tokens"))`.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from tenancy.access import actor_for
from tenancy.models import Ability, ApiToken, Membership
from tenancy.services.tokens import api_token_create, api_token_list, api_token_revoke


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100)
    organization = forms.ChoiceField()
    abilities = forms.MultipleChoiceField(
        choices=Ability.choices, widget=forms.CheckboxSelectMultiple,
        help_text="Never more than your role allows, now or after a role change.",
    )
    expires_in_days = forms.IntegerField(required=False, min_value=1, max_value=3650,
                                         label="Expires after (days)",
                                         help_text="Leave empty for no expiry.")

    def __init__(self, *args, memberships: list[Membership], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.memberships = {m.organization.slug: m for m in memberships}
        self.fields["organization"].choices = [
            (m.organization.slug, f"{m.organization.name} ({m.role_label})") for m in memberships
        ]


@login_required
@never_cache  # the response to a create carries the token in clear
@require_http_methods(["GET", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    """List the user's tokens; on a valid POST, mint one and show it this once."""
    memberships = list(Membership.objects.filter(user=request.user).select_related("organization"))
    form = TokenForm(request.POST or None, memberships=memberships)
    new_token = None
    if request.method == "POST" and form.is_valid():
        new_token = _create(request, form)
        if new_token:
            form = TokenForm(memberships=memberships)
    status = 400 if request.method == "POST" and not new_token else 200
    context = {"tokens": api_token_list(user=request.user), "form": form, "new_token": new_token}
    return render(request, "tokens/token_list.html", context, status=status)


def _create(request: HttpRequest, form: TokenForm) -> str | None:
    """Mint the token; service refusals become form errors. Returns the plaintext or None."""
    data = form.cleaned_data
    membership = form.memberships[data["organization"]]
    try:
        _token, plaintext = api_token_create(
            actor=actor_for(request), user=request.user, organization=membership.organization,
            name=data["name"], abilities=data["abilities"],
            expires_in_days=data["expires_in_days"],
        )
    except (PermissionDenied, ValidationError) as exc:
        form.add_error(None, exc.messages[0] if isinstance(exc, ValidationError) else str(exc))
        return None
    return plaintext


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """Revoke one of the user's own tokens (another user's id is a 404)."""
    token = ApiToken.objects.filter(user=request.user, pk=pk).first()
    if token is None:
        raise Http404("No such token")
    api_token_revoke(actor=actor_for(request), token=token)
    messages.success(request, f"Token “{token.name}” revoked.")
    return redirect("tokens")


urlpatterns = [
    path("", token_list, name="tokens"),
    path("<int:pk>/revoke/", token_revoke, name="token-revoke"),
]
