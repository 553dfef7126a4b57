"""The invitation page: who invites whom, and the one way in that fits the visitor.

A logged-in person with the invited address accepts with one button. A visitor whose address
has no account creates it right here (the address is the invitation's, shown, never retyped) and
lands in the organization; one whose address has an account logs in, the address filled in.
Saying which of the two applies tells only the holder of the mailed link (the invited mailbox).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods

from tenancy import throttle
from tenancy.access import actor_for
from tenancy.forms import InvitationSignupForm
from tenancy.models import Invitation
from tenancy.roles import Role
from tenancy.services.invitations import (
    invitation_accept,
    invitation_account_exists,
    invitation_get_by_token,
    invitation_problem,
    invitation_signup,
)
from tenancy.views.auth import TOO_MANY


def _login_url(request: HttpRequest, invitation: Invitation) -> str:
    query = urlencode({"next": request.path, "email": invitation.email})
    return f"{reverse('login')}?{query}"


def _render(
    request: HttpRequest, invitation: Invitation, *, refusal: str = "", error: str = "",
    form: InvitationSignupForm | None = None, status: int = 200,
) -> HttpResponse:
    """The page; `refusal` ends the visit (nothing to do here), `error` sits above the form."""
    user = request.user
    anonymous = not user.is_authenticated
    has_account = anonymous and invitation_account_exists(invitation)
    if anonymous and not has_account and form is None:
        form = InvitationSignupForm(email=invitation.email)
    context = {
        "invitation": invitation,
        "role": Role(invitation.role).label,
        "problem": refusal or invitation_problem(invitation),
        "error": error,
        "for_me": not anonymous and user.email.lower() == invitation.email.lower(),
        "signup_form": form if anonymous and not has_account else None,
        "login_url": _login_url(request, invitation),
    }
    return render(request, "team/invitation.html", context, status=status)


def _sign_up(request: HttpRequest, invitation: Invitation, token: str) -> HttpResponse:
    """Create the account from the invitation, log it in, and open the organization."""
    form = InvitationSignupForm(request.POST, email=invitation.email)
    if throttle.hit(request, throttle.SIGNUP_PER_IP):
        return _render(request, invitation, error=TOO_MANY, form=form, status=429)
    if not form.is_valid():
        return _render(request, invitation, form=form, status=400)
    try:
        user = invitation_signup(token=token, ip=actor_for(request).ip, **form.cleaned_data)
    except ValidationError as exc:
        return _render(request, invitation, error=" ".join(exc.messages), form=form, status=400)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    messages.success(request, f"Welcome to {invitation.organization.name}.")
    return redirect("dashboard", org=invitation.organization.slug)


@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """Show an invitation (GET changes nothing); POST accepts it, or creates the account."""
    found = invitation_get_by_token(token)
    if found is None:
        raise Http404("No such invitation")
    if request.method == "GET":
        return _render(request, found)
    if not request.user.is_authenticated:
        if invitation_account_exists(found):
            return redirect_to_login(request.get_full_path())
        return _sign_up(request, found, token)
    try:
        invitation_accept(actor=actor_for(request), token=token)
    except ValidationError as exc:
        return _render(request, found, refusal=" ".join(exc.messages), status=400)
    messages.success(request, f"Welcome to {found.organization.name}.")
    return redirect("dashboard", org=found.organization.slug)
