"""Rolling deploys through a load balancer: drain a batch, switch it, probe it, put it back.

The worker hands the pipeline a `BalancerLink` (plain data, no Django: the balancer's SSH
target, its generated config as loadbalancers.nginx dataclasses, which backend each server is,
and the rolling options of the site). `Rollout` holds the deployment's own drain state as
overrides on that config and puts the whole file live with loadbalancers/apply.py (upload,
`nginx -t`, graceful reload, last-good restore) over one connection to the balancer.

The overrides are never written to the database: a manager's own `Backend.drained` stays as it
is, and `restore` puts the config back exactly as generated, whatever ended the deployment.

Waiting for in-flight requests: a bounded wait (`drain_seconds`) after the graceful reload.
nginx's old workers finish the requests they hold while the new workers send nothing to the
drained backend; the wait covers the reload itself. Requests still running on the server
after that are safe anyway: the switch is one rename and the PHP-FPM reload waits for them
(process_control_timeout, checked by the stack check).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from loadbalancers import apply, nginx
from servers.ssh import RemoteConnection, SSHError, SSHTarget, connect

DRAINED = "drained"
CANARY = "canary"
# Lines of the balancer's access log read for one canary verdict (the tail of the window).
CANARY_MAX_LINES = 50000
# A retried request lists its upstreams and statuses ", "-separated (" : " between groups).
_UPSTREAM = re.compile(r" upstream=(.*?) upstream_status=(.*?) request_time=")
_LIST_SEPARATOR = re.compile(r",\s*|\s:\s")


class BalancerError(Exception):
    """The balancer refused or did not take a config (nginx's words, or the SSH error)."""


@dataclass(frozen=True)
class BalancerLink:
    """What the pipeline needs to roll a site through its balancer (built by the worker)."""

    label: str  # the balancer's name, tags its steps in the log
    target: SSHTarget = field(repr=False)
    config: nginx.BalancerConfig  # the balancer's whole file, as generated now
    site_key: str  # which BalancedSite of `config` is this site
    backends: Mapping[str, str]  # server name -> backend host in the upstream
    conf_path: str
    test_command: tuple[str, ...]
    reload_command: tuple[str, ...]
    batch_size: int = 1
    drain_seconds: float = 2.0
    # Canary: the first batch goes back with this weight for canary_seconds; a 5xx rate above
    # canary_max_error_rate (of at least canary_min_requests requests) rolls everything back.
    canary: bool = False
    canary_weight: int = 1
    canary_seconds: float = 60.0
    canary_max_error_rate: float = 0.05
    canary_min_requests: int = 1
    apply_timeout: float = 30.0

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        if not 0 <= self.drain_seconds <= 300 or not 0 < self.canary_seconds <= 3600:
            raise ValueError("drain_seconds must be in [0, 300], canary_seconds in (0, 3600]")

    def site(self) -> nginx.BalancedSite:
        return next(s for s in self.config.sites if s.key == self.site_key)


@dataclass(frozen=True)
class CanaryCount:
    requests: int
    errors: int  # answered 5xx by the canary backend

    @property
    def rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0


def render(link: BalancerLink, overrides: Mapping[str, str]) -> str:
    """The balancer's file with this deployment's drained and canary backends applied."""
    by_host = {link.backends[name]: state for name, state in overrides.items()}
    sites = tuple(
        dataclasses.replace(site, backends=tuple(
            _override(backend, by_host.get(backend.host), link.canary_weight)
            for backend in site.backends
        )) if site.key == link.site_key else site
        for site in link.config.sites
    )
    return nginx.render(dataclasses.replace(link.config, sites=sites))


def _override(backend: nginx.Backend, state: str | None, canary_weight: int) -> nginx.Backend:
    if state == DRAINED:
        return dataclasses.replace(backend, drained=True)
    if state == CANARY:
        return dataclasses.replace(backend, weight=canary_weight)
    return backend


def batches(names: list[str], link: BalancerLink) -> list[list[str]]:
    """Servers in batches of batch_size, never draining every enabled primary at once."""
    enabled = sum(1 for b in link.site().backends if not b.backup and not b.drained)
    size = max(1, min(link.batch_size, enabled - 1))
    return [names[i:i + size] for i in range(0, len(names), size)]


def count_canary(lines: list[str], address: str) -> CanaryCount:
    """Requests the canary `address` answered, and how many of them with a 5xx (access log
    lines in loadbalancers/nginx.py's format; a retried request lists several upstreams)."""
    requests = errors = 0
    for line in lines:
        match = _UPSTREAM.search(line)
        if not match:
            continue
        upstreams, statuses = _LIST_SEPARATOR.split(match[1]), _LIST_SEPARATOR.split(match[2])
        for upstream, status in zip(upstreams, statuses, strict=False):
            if upstream.strip() == address:
                requests += 1
                errors += status.strip().startswith("5")
    return CanaryCount(requests, errors)


class Rollout:
    """This deployment's state on the balancer and its one connection there."""

    def __init__(self, link: BalancerLink) -> None:
        self.link = link
        self.overrides: dict[str, str] = {}
        self._applied: str | None = None  # the text this deployment last put live
        self._conn: RemoteConnection | None = None
        self._lock = asyncio.Lock()  # one render + push at a time: the last push has it all
        self.canary_server = ""  # the server going back with the canary weight, if any
        self.canary_mark = 0  # the access log's size when the canary went back

    @property
    def touched(self) -> bool:
        return self._applied is not None

    def can_drain(self, name: str) -> bool:
        """Whether another enabled primary backend would still take the traffic (nginx refuses
        an upstream with none, and the site would go dark)."""
        others = {host for server, host in self.link.backends.items()
                  if server != name and self.overrides.get(server) != DRAINED}
        return any(not b.backup and not b.drained and b.host in others
                   for b in self.link.site().backends)

    async def set_state(self, name: str, state: str | None) -> None:
        async with self._lock:
            if state is None:
                self.overrides.pop(name, None)
            else:
                self.overrides[name] = state
            await self._push()

    async def restore(self) -> None:
        """Every backend back as generated (nothing drained by this deployment)."""
        async with self._lock:
            self.overrides.clear()
            await self._push()

    async def log_size(self) -> int:
        out = await self._capture(("sh", "-c", 'stat -c %s "$1" 2>/dev/null || echo 0', "sh",
                                   self.link.config.access_log))
        return int(out.strip() or 0)

    async def canary_count(self, name: str, since: int) -> CanaryCount:
        """The canary's requests and 5xx answers logged since byte `since` of the access log."""
        script = 'tail -c +"$1" "$2" | tail -n "$3"'
        out = await self._capture(("sh", "-c", script, "sh", str(since + 1),
                                   self.link.config.access_log, str(CANARY_MAX_LINES)))
        address = nginx.backend_address(self.link.backends[name], self.link.site().backends[0].port)
        return count_canary(out.splitlines(), address)

    async def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close()
            self._conn = None

    async def _push(self) -> None:
        text = render(self.link, self.overrides)
        result = await apply.push_config(
            await self._connection(), conf_path=self.link.conf_path, text=text,
            test_command=self.link.test_command, reload_command=self.link.reload_command,
            timeout=self.link.apply_timeout,
        )
        if result.status != apply.APPLIED:
            await self.close()  # a lost connection is opened again by the next push
            raise BalancerError(f"{self.link.label}: config {result.status}: {result.output}")
        self._applied = text

    async def _capture(self, argv: tuple[str, ...]) -> str:
        lines: list[str] = []
        try:
            result = await (await self._connection()).run(
                list(argv), timeout=self.link.apply_timeout,
                on_line=lambda line: lines.append(line.text))
        except SSHError as exc:
            await self.close()
            raise BalancerError(f"{self.link.label}: {exc}") from exc
        if result.exit_status != 0:
            raise BalancerError(f"{self.link.label}: {argv[2]} exited {result.exit_status}")
        return "\n".join(lines)

    async def _connection(self) -> RemoteConnection:
        if self._conn is None:
            try:
                self._conn = await connect(self.link.target)
            except SSHError as exc:
                raise BalancerError(f"{self.link.label}: {exc}") from exc
        return self._conn
