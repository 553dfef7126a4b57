"""Redaction of secret values from deploy output, in every form a program is likely to print.

A build script rarely echoes a secret verbatim only: it base64-encodes it into a config file,
URL-encodes it into a DSN, or prints it as hex. For each secret we redact the raw value, its
URL-encoded forms, its hex (lower and upper case) and its base64 (standard and URL-safe, with
and without padding). A secret inside a longer base64 string starts at byte offset 0, 1 or 2 of
a 3-byte group, which shifts its encoding: we redact the characters that depend only on the
secret for all three alignments. On top, the password of any `scheme://user:password@` URL is
redacted whatever it is (an HTTPS token in a repository URL, a DSN).

Plain data only (no Django): the sink (deployments/sink.py) holds one Redactor per deployment.
"""

from __future__ import annotations

import base64
import functools
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

REDACTED = "********"
# Shorter values (flags like "1", "on") would shred every line and protect nothing.
MIN_SECRET_LENGTH = 4
# An encoded fragment shorter than this would match ordinary text by chance.
MIN_FORM_LENGTH = 6
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]+:)[^\s@/]+(?=@)")


def base64_cores(data: bytes) -> set[str]:
    """The base64 characters that depend only on `data`, at each of the three alignments.

    At offset k (data preceded by k bytes), the first character fully inside `data` is
    ceil(8k/6) and the last one ends at floor(8(k+n)/6): characters outside that range
    mix in bits of the neighbours, so they are not part of the secret's fingerprint.
    """
    cores = set()
    for k in range(3):
        encoded = base64.b64encode(bytes(k) + data).decode()
        start, end = -(-8 * k // 6), 8 * (k + len(data)) // 6
        cores.add(encoded[start:end])
    return cores


def secret_forms(secret: str) -> set[str]:
    """Every spelling of `secret` to redact (the value itself included)."""
    data = secret.encode()
    forms = {secret, quote(secret, safe=""), quote_plus(secret), data.hex(), data.hex().upper()}
    standard = {base64.b64encode(data).decode()} | base64_cores(data)
    forms |= standard
    forms |= {form.replace("+", "-").replace("/", "_") for form in standard}
    return {form for form in forms if len(form) >= MIN_FORM_LENGTH or form == secret}


def trie_pattern(words: Iterable[str]) -> str:
    """One regex matching any of `words`, longest first, built as a prefix tree: a flat
    alternation of hundreds of forms costs the sink ~4x more per line (each position tries
    every branch); the tree tries one branch per character."""
    trie: dict = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}
    return _branch(trie)


def _branch(node: dict) -> str:
    parts = [re.escape(ch) + _branch(child) for ch, child in sorted(node.items()) if ch]
    if not parts:
        return ""
    body = parts[0] if len(parts) == 1 else "(?:" + "|".join(parts) + ")"
    # Greedy: the longer word is tried first, so a secret containing another is masked whole.
    return f"(?:{body})?" if "" in node else body


class Redactor:
    """Replaces every known form of every secret, and URL passwords, with ********."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        values = frozenset(s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH)
        self._pattern = _secrets_pattern(values) if values else None

    def __call__(self, text: str) -> str:
        if self._pattern is not None:
            text = self._pattern.sub(REDACTED, text)
        if "://" in text:
            text = _URL_PASSWORD.sub(lambda m: m["head"] + REDACTED, text)
        return text


@functools.lru_cache(maxsize=256)
def _secrets_pattern(values: frozenset[str]) -> re.Pattern:
    """The compiled pattern of every form of `values`, built once per set of secrets.

    Each deployment of a site has the same secrets; building the tree and compiling it
    again was a large share of the worker's own CPU per deployment (docs/benchmarks.md,
    "Worker cost per deployment"). The cache holds no more than `re`'s own cache of compiled
    patterns already held: the pattern spells out every secret.
    """
    return re.compile(trie_pattern(set().union(*(secret_forms(s) for s in values))))
