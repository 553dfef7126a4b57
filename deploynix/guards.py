"""Start-up checks of settings that would leave a production panel open (DEPLOYNIX_ENV=production).

Each refuses to start with a message naming the variable and the problem, rather than letting
the panel run: `ALLOWED_HOSTS=*` turns off the Host check and, through it, the WebSocket origin
check; DEBUG shows settings and stack traces to anyone; the console e-mail backend prints
invitation links (log-in capable) to stdout; a malformed encryption key would only fail at the
first secret read, as a 500 in the middle of a request.
"""

from __future__ import annotations

from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

# Back ends that do not send mail: their "messages" end up in logs, files or memory.
NON_SENDING_EMAIL_BACKENDS = frozenset({
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
})


def check_encryption_keys(keys: list[str]) -> None:
    """Every key must be a Fernet key (32 url-safe base64 bytes); at least one."""
    if not keys:
        raise ImproperlyConfigured("DEPLOYNIX_ENCRYPTION_KEYS must hold at least one key")
    for number, key in enumerate(keys, start=1):
        try:
            Fernet(key.encode())
        except (ValueError, TypeError):
            raise ImproperlyConfigured(
                f"DEPLOYNIX_ENCRYPTION_KEYS: key {number} of {len(keys)} is not a Fernet key "
                "(generate one with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())')"
            ) from None


def check_deploy_roots(roots: list[str]) -> None:
    """Each default deploy root is "~" or an absolute path other than "/"."""
    for root in roots:
        if root != "~" and (not root.startswith("/") or root.rstrip("/") == ""):
            raise ImproperlyConfigured(
                f"DEPLOYNIX_DEPLOY_ROOTS: {root!r} must be '~' or an absolute directory below /"
            )


def check_production(*, allowed_hosts: list[str], debug: bool, email_backend: str) -> None:
    """Refuse the production settings that disable a protection (see the module docstring)."""
    if any(host.strip() in ("*", ".") or host.strip().startswith("*") for host in allowed_hosts):
        raise ImproperlyConfigured(
            "DEPLOYNIX_ALLOWED_HOSTS may not contain '*' in production: it turns off the Host "
            "header and WebSocket origin checks; list the panel's host names"
        )
    if debug:
        raise ImproperlyConfigured(
            "DEPLOYNIX_DEBUG must be off in production: debug pages show settings and code"
        )
    if email_backend in NON_SENDING_EMAIL_BACKENDS:
        raise ImproperlyConfigured(
            f"DEPLOYNIX_EMAIL_BACKEND {email_backend} does not send mail and would write "
            "invitation links to the log; use django.core.mail.backends.smtp.EmailBackend"
        )
