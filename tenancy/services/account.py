"""Account security: password change and reset, sessions, e-mail verification. Each audited.

Account events concern no organization: they are audit events with `organization=None`, listed
on the user's own security page (tenancy/views/account.py).
"""

from __future__ import annotations

from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm
from django.db import transaction

from tenancy.audit import Actor, audit_record
from tenancy.models import User, UserSession
from tenancy.sessions import sessions_end


@transaction.atomic
def password_change(*, actor: Actor, form: PasswordChangeForm) -> User:
    """Save the new password of a valid change form (it checked the current one). Audited.

    The caller keeps its own session (update_session_auth_hash) and ends the others.
    """
    user = form.save()
    audit_record(actor=actor, organization=None, verb="account.password_change", target=user)
    return user


@transaction.atomic
def password_reset_complete(*, actor: Actor, form: SetPasswordForm) -> User:
    """Save a password set through an e-mailed reset link; end every session. Audited.

    Opening the link proves the address, so a sign-up still waiting for its confirmation
    becomes verified too.
    """
    user = form.save()
    if not user.email_verified:
        User.objects.filter(pk=user.pk).update(email_verified=True)
    ended = sessions_end(UserSession.objects.filter(user=user))
    audit_record(actor=actor, organization=None, verb="account.password_reset", target=user,
                 after={"sessions_ended": len(ended)})
    return user


@transaction.atomic
def sessions_revoke(
    *, actor: Actor, user: User, keep_key: str | None, session_id: int | None = None
) -> int:
    """End one of `user`'s sessions (`session_id`) or all but `keep_key`. Audited.

    Never the current session (`keep_key`): logging out is the way to end that one.
    """
    rows = UserSession.objects.filter(user=user).exclude(session_key=keep_key or "")
    if session_id is not None:
        rows = rows.filter(pk=session_id)
    ended = sessions_end(list(rows))
    if ended:
        audit_record(actor=actor, organization=None, verb="account.sessions_revoke",
                     target=user, after={"sessions": ended})
    return len(ended)


@transaction.atomic
def email_verify(*, actor: Actor, user: User) -> bool:
    """Mark `user`'s address as verified; False when it already was. Audited."""
    changed = User.objects.filter(pk=user.pk, email_verified=False).update(email_verified=True)
    if changed:
        audit_record(actor=actor, organization=None, verb="account.email_verify", target=user)
    return bool(changed)
