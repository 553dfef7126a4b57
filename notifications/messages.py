"""Human messages for Slack, Discord and e-mail, rendered from the event payload (pure)."""

from __future__ import annotations

from notifications.models import Event

HEADLINES = {
    Event.STARTED: "Deploying",
    Event.SUCCEEDED: "Deployed",
    Event.FAILED: "Deploy failed:",
    Event.ROLLED_BACK: "Rolled back",
    Event.CANCELLED: "Deploy cancelled:",
    Event.APPROVAL_REQUESTED: "Approval needed to deploy",
    Event.SKIPPED: "Deploy skipped (already live):",
    Event.REJECTED: "Deploy rejected:",
    Event.EXPIRED: "Deploy expired unapproved:",
    Event.HELD: "Deploy held by a freeze:",
    "test": "Test message for",
}
COLOURS = {  # Discord embed colours (also the Slack attachment bar)
    Event.STARTED: 0x2563EB,
    Event.SUCCEEDED: 0x16A34A,
    Event.FAILED: 0xDC2626,
    Event.ROLLED_BACK: 0xD97706,
    Event.CANCELLED: 0x6B7280,
    Event.APPROVAL_REQUESTED: 0xB45309,
    Event.SKIPPED: 0x6B7280,
    Event.REJECTED: 0xDC2626,
    Event.EXPIRED: 0x6B7280,
    Event.HELD: 0x2563EB,
    "test": 0x6B7280,
}


def summary(payload: dict) -> str:
    """One plain line: `Deployed shop (main @ 1a2b3c4) by dev@acme.test`."""
    data = payload["data"]
    d, site = data["deployment"], data["site"]
    commit = f" @ {d['commit'][:7]}" if d["commit"] else ""
    headline = HEADLINES[data["event"]]
    return f"{headline} {site['name']} ({d['branch']}{commit}) by {d['triggered_by']}"


def details(payload: dict) -> list[tuple[str, str]]:
    """(label, value) pairs worth showing, empty ones left out."""
    d = payload["data"]["deployment"]
    approval = (f"{d['approval_role']} or higher, by {d['approval_expires_at']}"
                if d.get("approval_role") and payload["data"]["event"] == Event.APPROVAL_REQUESTED
                else "")
    reason = d.get("reason", "")
    rows = [("Approval", approval), ("Reason", reason[:900]), ("Release", d["release"]),
            ("Trigger", d["trigger"]), ("Failed step", d["failed_step"]),
            ("Error", "" if reason else d["error"][:900]),
            ("Commit message", d["commit_message"][:300]),
            ("Changes", (d.get("changes") or {}).get("text", ""))]
    if d["duration_seconds"] is not None:
        rows.append(("Duration", f"{d['duration_seconds']:.0f} s"))
    return [(label, value) for label, value in rows if value]


def slack_escape(text: str) -> str:
    """Slack mrkdwn control characters; anything else a commit message holds stays literal."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_message(payload: dict) -> dict:
    """An incoming-webhook message: `text` (fallback) plus a section block and a context."""
    url = payload["data"]["deployment"]["url"]
    line = slack_escape(summary(payload))
    fields = [{"type": "mrkdwn", "text": f"*{label}*\n{slack_escape(value)}"}
              for label, value in details(payload)[:10]]
    link = {"type": "mrkdwn", "text": f"<{url}|{line}>"}
    blocks: list[dict] = [{"type": "section", "text": link}]
    if fields:
        blocks.append({"type": "section", "fields": fields})
    return {"text": line, "blocks": blocks}


def discord_message(payload: dict) -> dict:
    """An incoming-webhook message with one embed; mentions in user text never ping anyone."""
    data = payload["data"]
    embed = {
        "title": summary(payload)[:256],
        "url": data["deployment"]["url"],
        "color": COLOURS[data["event"]],
        "timestamp": payload["timestamp"],
        "fields": [{"name": label, "value": value[:1024], "inline": len(value) < 40}
                   for label, value in details(payload)[:25]],
        "footer": {"text": f"Deploynix · {data['organization']['name']}"},
    }
    return {"username": "Deploynix", "embeds": [embed], "allowed_mentions": {"parse": []}}


def email_message(payload: dict) -> tuple[str, str]:
    """(subject, plain-text body)."""
    subject = f"[Deploynix] {summary(payload)}"
    lines = [summary(payload), ""]
    lines += [f"{label}: {value}" for label, value in details(payload)]
    lines += ["", payload["data"]["deployment"]["url"]]
    # No line breaks in a header, whatever a site name or e-mail holds.
    return " ".join(subject.split())[:200], "\n".join(lines) + "\n"
