"""The health gate: pure builders for the two probes and the judgement of their answers.

Before the switch the NEW release is probed on each server without users seeing it: PHP's
built-in server (`php -S`, on a free loopback port, for this one request) serves the
release's web directory with its index.php as the router. It needs nothing but PHP CLI,
which every PHP server has, and touches neither nginx nor the FPM pool. Its limit: it runs
the CLI's php.ini, extensions and environment, not the FPM pool's nor the vhost's
fastcgi params. That is why the live site is probed again after each switch, through the
server's own web server with the site's Host header; a failure there switches back.
The shell is deployments/pipeline/scripts/health_probe.sh (curl, else PHP CLI).
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from deployments.pipeline.actions import Command
from deployments.pipeline.context import DeployContext, HealthCheck, Paths, ServerSpec
from deployments.pipeline.scripts import script

HEALTH_PROBE = script("health_probe.sh")
# Given as text to `php -r`, which wants no opening tag.
FETCH_PHP = script("health_fetch.php").removeprefix("<?php\n")
# The body text is looked for in this much of the body; the log shows its first lines.
BODY_BYTES = 65536
SHOWN_BODY_LINES = 5
SHOWN_LINE_CHARS = 200


@dataclass(frozen=True)
class ProbeAnswer:
    """What one probe got: an HTTP status, or why there was none."""

    status: int | None
    elapsed_ms: int
    body: str = ""
    error: str = ""

    def first_lines(self) -> list[str]:
        """The body's first non-empty lines, shortened, for the log."""
        lines = [line[:SHOWN_LINE_CHARS] for line in self.body.splitlines() if line.strip()]
        return lines[:SHOWN_BODY_LINES]

    def summary(self) -> str:
        """`HTTP 500 in 12 ms`, or `no answer in 5003 ms: <why>`."""
        if self.status is None:
            return f"no answer in {self.elapsed_ms} ms: {self.error or 'unknown error'}"
        return f"HTTP {self.status} in {self.elapsed_ms} ms"


def probe_release(ctx: DeployContext, check: HealthCheck) -> Command:
    """Ask the new release (not live anywhere yet) for check.path through `php -S`."""
    web = posixpath.normpath(posixpath.join(Paths.of(ctx).release, ctx.web_dir or "."))
    argv = _argv("release", check.path, check, web)
    return Command(argv, label=f"health check of release {ctx.release}: GET {check.path} "
                               f"(PHP's built-in server on a private loopback port)")


def probe_live(check: HealthCheck, spec: ServerSpec) -> Command:
    """Ask the server's own web server for check.path with the site's Host header."""
    url = f"{check.scheme}://{_url_host(spec.web_address)}:{spec.web_port}{check.path}"
    shown = f" (Host: {check.host})" if check.host else ""
    return Command(_argv("live", url, check), label=f"health check: GET {url}{shown}",
                   retry=True)


def parse(lines: list[str]) -> ProbeAnswer:
    """The script's output (see health_probe.sh) as a ProbeAnswer."""
    fields: dict[str, str] = {}
    rest = iter(lines)
    for line in rest:
        if line == "body":
            break
        key, _, value = line.partition(" ")
        fields[key] = value
    status = fields.get("status", "")
    try:
        elapsed_ms = round(float(fields.get("elapsed", "0")) * 1000)
    except ValueError:
        elapsed_ms = 0
    body = "\n".join(rest)
    if status.isdigit() and status != "000":
        return ProbeAnswer(int(status), elapsed_ms, body)
    return ProbeAnswer(None, elapsed_ms, body, fields.get("error", "no HTTP answer"))


def verdict(check: HealthCheck, answer: ProbeAnswer) -> str:
    """Why `answer` is unhealthy ("" when healthy)."""
    if answer.status is None:
        return answer.summary()
    if answer.status != check.expected_status:
        return f"{answer.summary()}, expected {check.expected_status}"
    if check.body_text and check.body_text not in answer.body:
        return f"{answer.summary()}, but the body does not contain {check.body_text!r}"
    return ""


def _argv(mode: str, target: str, check: HealthCheck, docroot: str = "") -> tuple[str, ...]:
    return ("sh", "-c", HEALTH_PROBE, "sh", mode, target, check.host, f"{check.timeout:g}",
            str(BODY_BYTES), FETCH_PHP, docroot)


def _url_host(address: str) -> str:
    """An IPv6 address goes in brackets in a URL."""
    return f"[{address}]" if ":" in address else address
