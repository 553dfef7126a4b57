"""docs/notifications.md documents the payload that is really sent, and its verifier works."""

from __future__ import annotations

import json
import re
from pathlib import Path

from django.utils import timezone

from notifications.payloads import event_payload
from notifications.signing import new_secret, signed_headers

DOC = Path(__file__).parents[2] / "docs" / "notifications.md"


def fenced(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(), flags=re.DOTALL)


def shape(value):
    """The nested key structure of a JSON document (values ignored)."""
    return {k: shape(v) for k, v in value.items()} if isinstance(value, dict) else None


def test_it_documents_every_field_of_the_payload(deployment):
    [documented] = fenced("json")
    sent = event_payload(deployment, "succeeded", msg_id="msg_x", now=timezone.now())
    assert shape(json.loads(documented)) == shape(sent)


def test_it_documents_a_verifier_that_accepts_a_real_signature():
    [snippet] = fenced("python")
    namespace: dict = {}
    exec(snippet, namespace)  # the reader's code, run as written
    secret, body = new_secret(), b'{"type":"deployment.failed"}'
    headers = signed_headers(secret, "msg_1", int(timezone.now().timestamp()), body)
    assert namespace["verify"](secret, headers, body)
    assert not namespace["verify"](secret, headers, body + b" ")
