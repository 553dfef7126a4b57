"""Small server-rendered SVG charts (no JavaScript, no external assets: the CSP stays strict).

`durations_chart`: the last deployments' durations as bars coloured by outcome.
`step_bar`: one deployment's step timings as a single stacked bar.
Both return markup built only from numbers and escaped text, so they are safe to mark_safe.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

STATUS_CLASS = {
    "succeeded": "ok", "failed": "bad", "timed_out": "bad", "cancelled": "muted", "running": "run",
    "skipped": "muted",
}
STEP_PALETTE = ("#2f6fed", "#12805c", "#b54708", "#7a5af8", "#c4320a", "#0e9384", "#667085")


@dataclass(frozen=True)
class Bar:
    label: str  # tooltip, e.g. "#42 20261127101500 succeeded 12.3 s"
    seconds: float
    status: str


def durations_chart(bars: Sequence[Bar], *, width: int = 600, height: int = 120) -> str:
    """Bars left (oldest) to right (newest); height proportional to duration."""
    if not bars:
        return ""
    longest = max(bar.seconds for bar in bars) or 1.0
    slot = width / max(len(bars), 1)
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height + 16}" role="img" '
        f'aria-label="Durations of the last {len(bars)} deployments" xmlns="http://www.w3.org/2000/svg">'
    ]
    for index, bar in enumerate(bars):
        h = max(2.0, bar.seconds / longest * height)
        x, y = index * slot + 2, height - h
        css = STATUS_CLASS.get(bar.status, "muted")
        parts.append(
            f'<rect class="bar {css}" x="{x:.1f}" y="{y:.1f}" width="{max(slot - 4, 1):.1f}" '
            f'height="{h:.1f}"><title>{escape(bar.label)}</title></rect>'
        )
    parts.append(
        f'<text class="axis" x="0" y="{height + 13}">max {longest:.1f} s</text></svg>'
    )
    return "".join(parts)


def step_bar(steps: Sequence[tuple[str, float]], *, width: int = 600, height: int = 18) -> str:
    """One stacked bar: each step's share of the total time, with its name as a tooltip."""
    total = sum(max(seconds, 0.0) for _, seconds in steps)
    if total <= 0:
        return ""
    parts = [
        f'<svg class="stepbar" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="Step timings" xmlns="http://www.w3.org/2000/svg">'
    ]
    x = 0.0
    for index, (name, seconds) in enumerate(steps):
        w = max(seconds, 0.0) / total * width
        colour = STEP_PALETTE[index % len(STEP_PALETTE)]
        parts.append(
            f'<rect x="{x:.1f}" y="0" width="{w:.1f}" height="{height}" fill="{colour}">'
            f"<title>{escape(name)}: {seconds:.2f} s</title></rect>"
        )
        x += w
    parts.append("</svg>")
    return "".join(parts)


def deployments_chart(deployments) -> str:
    """The chart for a site page: finished deployments, oldest first (objects with `pk`,
    `release`, `status`, `duration`)."""
    bars = [
        Bar(f"{d.label} {d.release} {d.status} {d.duration.total_seconds():.1f} s",
            d.duration.total_seconds(), d.status)
        for d in reversed(list(deployments)) if d.duration is not None
    ]
    return durations_chart(bars)


def steps_bar(steps) -> str:
    """The bar for a deployment page (steps with `name`, `server`, `started_at`, `finished_at`)."""
    timed = [
        (f"{s.name} ({s.server})" if s.server else s.name,
         (s.finished_at - s.started_at).total_seconds())
        for s in steps if s.started_at and s.finished_at
    ]
    return step_bar(timed)
