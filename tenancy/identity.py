"""The one normalization of a log-in identity (an e-mail address).

Authentication (`UserManager.get_by_natural_key`), account creation and every throttle keyed on
an account go through `normalize_identity`, so "ADA@x.test", " ada@x.test " and the full-width
"ａｄａ@x.test" are one account to all of them: a variant spelling cannot open a fresh throttle
bucket while still logging in to the same user.
"""

from __future__ import annotations

import unicodedata

MAX_IDENTITY_LENGTH = 254  # the longest e-mail address (RFC 5321 path limit)


def normalize_identity(raw: str | None) -> str:
    """NFKC-fold, trim and lower-case an e-mail address as typed."""
    return unicodedata.normalize("NFKC", raw or "").strip().lower()[:MAX_IDENTITY_LENGTH]
