"""Sign-up that reveals nothing about which addresses have accounts, and e-mail verification.

Every accepted sign-up answers the same ("check your inbox"): a new address gets an account
(unverified) and a confirmation link; an address that already has an account gets an e-mail
saying so, and the submitted password is thrown away. Unverified accounts may log in but may
not create organizations or accept invitations (tenancy/services/orgs.py, invitations.py).

Invite-only mode (settings.SIGNUP_INVITE_ONLY): a sign-up must carry the token of a pending
invitation sent to the same address.
"""

from __future__ import annotations

import smtplib

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import urlencode

from tenancy.audit import Actor, audit_record
from tenancy.identity import normalize_identity
from tenancy.models import User
from tenancy.services.invitations import invitation_get_by_token, invitation_problem

VERIFY_SALT = "deploynix.email-verify"
VERIFY_MAX_AGE = 3 * 24 * 3600


def _absolute(path: str) -> str:
    return settings.PUBLIC_URL.rstrip("/") + path


def verification_token(user: User) -> str:
    # The address is signed too: a link stops working if the account's address changes.
    return signing.dumps({"u": user.pk, "e": user.email}, salt=VERIFY_SALT, compress=True)


def user_from_verification(token: str) -> User | None:
    """The user a verification link names, or None when forged, expired or stale."""
    try:
        data = signing.loads(token, salt=VERIFY_SALT, max_age=VERIFY_MAX_AGE)
    except signing.BadSignature:
        return None
    return User.objects.filter(pk=data.get("u"), email=data.get("e"), is_active=True).first()


def _mail(template: str, email: str, context: dict) -> None:
    subject = render_to_string(f"emails/{template}_subject.txt", context).strip()
    body = render_to_string(f"emails/{template}.txt", context)
    try:
        send_mail(subject, body, None, [email], fail_silently=False)
    except (smtplib.SMTPException, OSError) as exc:
        raise ValidationError(f"The e-mail could not be sent ({exc}). Try again later.") from exc


def verification_send(user: User, next_path: str = "") -> None:
    link = _absolute(reverse("signup-verify", kwargs={"token": verification_token(user)}))
    if next_path:
        link += "?" + urlencode({"next": next_path})
    _mail("verify_email", user.email, {"user": user, "link": link})


def _check_invitation(email: str, invitation_token: str) -> None:
    invitation = invitation_get_by_token(invitation_token) if invitation_token else None
    if invitation is None or invitation_problem(invitation):
        raise ValidationError("Sign-up is by invitation only: open the link of your invitation.")
    if normalize_identity(invitation.email) != email:
        raise ValidationError("Sign up with the address the invitation was sent to.")


@transaction.atomic
def signup_request(
    *, email: str, password: str, name: str, invitation_token: str = "", next_path: str = "",
    ip: str | None = None,
) -> None:
    """Handle a sign-up without telling the caller whether `email` already has an account."""
    email = normalize_identity(email)
    if settings.SIGNUP_INVITE_ONLY:
        _check_invitation(email, invitation_token)
    existing = User.objects.filter(email=email).first()
    if existing is not None:
        make_password(password)  # the same hashing work as a new account: no timing tell
        _mail("account_exists", email, {
            "user": existing,
            "login": _absolute(reverse("login")),
            "reset": _absolute(reverse("password-reset")),
        })
        return
    user = User.objects.create_user(email=email, password=password, name=name,
                                    email_verified=False)
    audit_record(actor=Actor(user=user, ip=ip), organization=None, verb="account.signup",
                 target=user)
    verification_send(user, next_path)
