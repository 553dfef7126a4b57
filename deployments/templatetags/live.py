"""Template tags for logs and live status (`{% load live %}`).

- `{{ line.text|ansi }}`: one stored line as safe HTML (text escaped, colours as classes).
- `{% live_assets %}`: the stylesheet and the two scripts (external files: the CSP forbids inline).
- `{% live_log deployment lines %}`: the log box; the newest stored `lines` rendered now,
  everything live streamed by static/js/livelog.js from `seq` after the last one rendered, and
  earlier lines fetched on demand ("Show earlier lines", deployments/views/log.py).
- `{% deployment_status_badge deployment %}`: a badge that static/js/livestatus.js keeps current.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

from django import template
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from deployments.ansi import ansi_to_html

register = template.Library()

# A log line's CSS class by stream: the pipeline's own notes ('info') stand out. stderr looks
# like stdout: tools write ordinary progress there (git's "Cloning into…"), so red would cry
# wolf; failures show as the failed step's badge and the error block, and in the tools' own colours.
STREAM_CLASSES = {"out": "ln", "err": "ln", "info": "ln step"}
# The most lines the browser keeps in the log box while it runs (static/js/livelog.js drops
# the oldest; "Show earlier lines" brings them back on demand).
LOG_DOM_LINES = 2000


@register.filter
def ansi(text: str) -> SafeString:
    """Escape a stored log line and turn its ANSI colours into spans."""
    return ansi_to_html(text or "")


@register.simple_tag
def live_assets() -> SafeString:
    """The live log/status stylesheet and scripts, for a page's head."""
    return format_html(
        '<link rel="stylesheet" href="{}">'
        '<script src="{}" defer></script><script src="{}" defer></script>',
        static("css/live.css"), static("js/livestatus.js"), static("js/livelog.js"),
    )


def log_line_html(line: Any) -> SafeString:
    """One line as livelog.js renders it: `<span class="ln …" data-seq><srv><tx></span>`.

    Plain string building (html.escape, as Django's escape does it) rather than format_html:
    the page renders hundreds of these, and format_html's wrapping was most of their cost.
    """
    server = f'<span class="srv">{html.escape(line.server)}</span>' if line.server else ""
    css = STREAM_CLASSES.get(line.stream, "ln")
    # Safe: the class is one of ours, seq an int, the server and text escaped.
    return mark_safe(  # noqa: S308
        f'<span class="{css}" data-seq="{int(line.seq)}">{server}'
        f'<span class="tx">{ansi_to_html(line.text)}</span></span>')


@register.simple_tag(takes_context=True)
def live_log(context: dict, deployment: Any, lines: Iterable[Any] = ()) -> SafeString:
    """The log box of `deployment`, pre-filled with `lines` (the newest stored LogLines, in seq
    order), after a "Show earlier lines" button that livelog.js shows while earlier lines exist."""
    lines = list(lines)
    first, after = (lines[0].seq, lines[-1].seq) if lines else (0, 0)
    earlier = reverse("deployments:log-earlier",
                      kwargs={"org": context["org"].slug, "pk": deployment.pk})
    button = format_html(
        '<button type="button" class="btn small log-earlier" data-log-earlier="{}"{}>'
        "Show earlier lines</button>", earlier, "" if first > 1 else mark_safe(" hidden"))
    body = mark_safe("".join(log_line_html(line) for line in lines))  # noqa: S308 — see above
    return format_html(
        '{}<div class="log" role="log" tabindex="0" data-live-log data-deployment="{}" '
        'data-ws="/ws/deployments/{}/" data-after="{}" data-last-seq="{}" data-first-seq="{}" '
        'data-max-lines="{}">{}</div>',
        button, deployment.pk, deployment.pk, after, after, first or after + 1, LOG_DOM_LINES,
        body,
    )


@register.simple_tag
def deployment_status_badge(deployment: Any) -> SafeString:
    """A status badge that updates live on `deployment.status` frames."""
    return format_html(
        '<span class="badge {}" data-deployment-status="{}">{}</span>',
        deployment.status, deployment.pk, deployment.get_status_display(),
    )


@register.simple_tag
def org_live_status(org: Any) -> SafeString:
    """Opt a page in to live status badges: livestatus.js follows `ws/orgs/<slug>/`."""
    return format_html('<div hidden data-org-live="/ws/orgs/{}/"></div>', org.slug)
