"""Reads of deployments: scoped to an organization or a site, with the joins lists need."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import F, OuterRef, QuerySet, Subquery

from deployments.models import (
    Deployment,
    Kind,
    LogLine,
    ProvisionedServer,
    ServerReleaseFacts,
    SiteProvisioning,
    Status,
)
from deployments.pipeline.commands import MISSING_EXTENSIONS
from servers.models import Server
from sites.models import EnvironmentVersion, Site
from sites.selectors import LIST_DEFERRED, site_list
from tenancy.models import Organization

# The site's encrypted columns, which no list of deployments shows (a decryption per row).
_SITE_DEFERRED = tuple(f"site__{name}" for name in LIST_DEFERRED)


def deployment_list_recent(*, org: Organization, limit: int = 10) -> list[Deployment]:
    """The organization's latest deployments, newest first, with their site (one query)."""
    return list(deployment_list(org=org)[:limit])


def deployment_list(*, org: Organization) -> QuerySet[Deployment]:
    """Every deployment of the organization, newest first, with its site (paginate it)."""
    return (Deployment.objects.for_org(org).select_related("site").defer(*_SITE_DEFERRED)
            .order_by("-id"))


def deployment_history(*, site: Site) -> QuerySet[Deployment]:
    """Every deployment of `site`, newest first (paginate it), with the number of the
    environment version it ships (its values stay unread)."""
    return (Deployment.objects.filter(site=site).select_related("triggered_by", "env_version")
            .defer("env_version__environment").order_by("-id"))


def deployment_live(*, site: Site) -> Deployment | None:
    """The deployment whose release is live on the servers: the last one that succeeded
    (provisioning changes no release)."""
    return (
        Deployment.objects.filter(site=site, status=Status.SUCCEEDED)
        .exclude(kind=Kind.PROVISION)
        .order_by("-finished_at", "-id")
        .first()
    )


def retained_releases(*, site: Site) -> list[str]:
    """Releases still on the servers, newest first: every rollback target plus the live one.

    From the servers' facts (site_truth) once the site has been observed; before that, the
    panel's rows (see _row_retained_releases: the newest successful deploys + live).
    """
    truth = site_truth(site=site)
    names = {target.release for target in rollback_targets(site=site, truth=truth)}
    if not truth.observed:
        live = truth.believed_live
        return sorted(names | ({live.release} if live and live.release else set()), reverse=True)
    names |= {truth.live_everywhere} if truth.live_everywhere else set()
    return sorted(names, reverse=True)


def _row_retained_releases(*, site: Site, live: Deployment | None) -> list[str]:
    """The panel's own guess: the newest `releases_to_keep` successful deploys + live.

    Failed releases are removed by the pipeline and never count, and the live release is
    never pruned (it may be older after a rollback).
    """
    releases = list(
        Deployment.objects.filter(site=site, kind=Kind.DEPLOY, status=Status.SUCCEEDED)
        .exclude(release="")
        .order_by("-release")
        .values_list("release", flat=True)
        .distinct()[: site.releases_to_keep]
    )
    if live is not None and live.release and live.release not in releases:
        releases.append(live.release)
    return sorted(releases, reverse=True)


def deployment_that_built(*, site: Site, release: str) -> Deployment | None:
    """The deploy that built `release`, whatever its recorded fate (a successful one first)."""
    return _deploy_rows(site, {release}).get(release)


def env_version_shipped(deployment: Deployment) -> EnvironmentVersion | None:
    """The environment version `deployment` ships (number, who saved it, when; its values
    stay unread), or None: not started yet, or a rollback to a release from before versions."""
    if deployment.env_version_id is None:
        return None
    return EnvironmentVersion.objects.defer("environment").filter(
        pk=deployment.env_version_id).first()


def deployment_for_release(*, site: Site, release: str) -> Deployment | None:
    """The successful deploy that built `release`."""
    return (
        Deployment.objects.filter(
            site=site, kind=Kind.DEPLOY, status=Status.SUCCEEDED, release=release
        )
        .order_by("-id")
        .first()
    )


def log_lines(
    *, deployment_id: int, after: int = 0, before: int | None = None
) -> QuerySet[LogLine]:
    """The one read of stored log lines: seq > `after` (and < `before`), in seq order.

    Page, API, live socket, raw download and `manage.py deploy --follow` all read through it
    (slice it for a page; `.iterator()` it to stream).
    """
    lines = LogLine.objects.filter(deployment_id=deployment_id, seq__gt=after)
    if before is not None:
        lines = lines.filter(seq__lt=before)
    return lines.order_by("seq")


def log_lines_after(*, deployment: Deployment, after: int = 0, limit: int = 5000) -> list[LogLine]:
    """Stored log lines with seq > `after`, in order (one page of `limit`)."""
    return list(log_lines(deployment_id=deployment.pk, after=after)[:limit])


def log_lines_tail(*, deployment_id: int, limit: int, before: int | None = None) -> list[LogLine]:
    """The last `limit` stored lines (with seq < `before`), oldest first.

    The deployment page's log and its "show earlier" pages: one backward scan of the
    (deployment, seq) index, however long the log is.
    """
    lines = LogLine.objects.filter(deployment_id=deployment_id)
    if before is not None:
        lines = lines.filter(seq__lt=before)
    tail = list(lines.order_by("-seq")[:limit])
    tail.reverse()
    return tail


def log_text_page(*, deployment_id: int, after: int, limit: int) -> list[tuple[int, str, str]]:
    """(seq, server, text) of up to `limit` lines after `after`: one keyset page of the download."""
    rows = log_lines(deployment_id=deployment_id, after=after).values_list("seq", "server", "text")
    return list(rows[:limit])


# The servers are the truth (deployments/reconcile.py stores what each one said). The
# reads below answer "what is live, what can we roll back to" from those facts.


@dataclass(frozen=True)
class ServerTruth:
    """One server of a site and the last facts observed there (None: never observed)."""

    server: Server
    facts: ServerReleaseFacts | None
    stale: bool = False  # observed before the site's last deployment finished

    @property
    def observed(self) -> bool:
        return self.facts is not None and self.facts.observed_at is not None

    @property
    def live(self) -> str | None:
        """The release `current` points at there, None for none or not a release."""
        return (self.facts.current_release or None) if self.observed else None

    @property
    def drift(self) -> list[str]:
        """Where this server disagreed with the panel; [] when unknown or since outdated."""
        return list(self.facts.drift) if self.observed and not self.stale else []


@dataclass(frozen=True)
class SiteTruth:
    """Per server what the facts say, next to what the panel believes live."""

    servers: tuple[ServerTruth, ...]
    believed_live: Deployment | None

    @property
    def observed(self) -> bool:
        """Whether any server of the site has been observed (else the rows are all we have)."""
        return any(server.observed for server in self.servers)

    @property
    def observed_servers(self) -> list[ServerTruth]:
        return [server for server in self.servers if server.observed]

    @property
    def live_everywhere(self) -> str | None:
        """The release live on every server of the site, per the facts."""
        lives = {server.live for server in self.servers}
        if not self.servers or not all(s.observed for s in self.servers) or len(lives) != 1:
            return None
        return lives.pop()

    @property
    def drift(self) -> dict[str, list[str]]:
        """Server name -> what disagrees there (only servers with drift)."""
        return {s.server.name: s.drift for s in self.servers if s.drift}


@dataclass(frozen=True)
class RollbackTarget:
    """A release a rollback may go to: on disk on every server of the site."""

    release: str
    commit: str
    deployment: Deployment | None  # the deploy that built it, if the panel has one
    live_on: tuple[str, ...] = ()  # names of the servers serving it now
    previously_live: bool = False


def site_truth(*, site: Site) -> SiteTruth:
    """The site's servers with their last facts and the panel's belief (four queries)."""
    servers = list(site.servers.order_by("name"))
    facts = {row.server_id: row for row in ServerReleaseFacts.objects.filter(site=site)}
    last_finished = _last_finished_at(site) if facts else None
    return SiteTruth(
        servers=tuple(
            ServerTruth(server, row := facts.get(server.pk), _is_stale(row, last_finished))
            for server in servers
        ),
        believed_live=deployment_live(site=site),
    )


def rollback_targets(*, site: Site, truth: SiteTruth | None = None) -> list[RollbackTarget]:
    """Where a rollback may go, newest first.

    From the facts: releases on disk on every observed server with a REVISION, except the
    one live on all of them; the previously live release whenever it is on disk. Before the
    site was ever observed: the panel's rows (retained successful deploys that are not live).
    """
    truth = truth or site_truth(site=site)
    if not truth.observed:
        return _row_rollback_targets(site, truth.believed_live)
    observed = truth.observed_servers
    on_all = set.intersection(*(set(server.facts.release_names) for server in observed))
    previous = _previously_live(site, truth.believed_live)
    rows = _deploy_rows(site, on_all)
    targets = []
    for name in sorted(on_all - {truth.live_everywhere}, reverse=True):
        commits = {server.facts.commit_of(name) for server in observed}
        commit = commits.pop() if len(commits) == 1 else None  # disagreeing REVISIONs: unsure
        if commit is None and name not in previous:
            continue  # a half-built or foreign directory
        row = rows.get(name)
        targets.append(RollbackTarget(
            release=name, commit=(row.commit_sha if row and row.commit_sha else commit or ""),
            deployment=row, live_on=tuple(s.server.name for s in observed if s.live == name),
            previously_live=name in previous,
        ))
    return targets


def live_commit(*, site: Site, truth: SiteTruth | None = None) -> str:
    """The commit live on every server of the site ("" when unknown or they differ).

    Per server: the REVISION of the release `current` points at, from its facts; where those
    facts predate the last deployment's end, the panel's belief (the last successful
    deployment). A server never observed while others were is unknown (added since): "".
    A site never observed at all: the panel's belief.
    """
    truth = truth or site_truth(site=site)
    believed = truth.believed_live.commit_sha if truth.believed_live is not None else ""
    if not truth.observed:
        return believed
    commits = set()
    for server in truth.servers:
        if not server.observed:
            return ""
        live = server.facts.commit_of(server.live) if server.live else None
        commits.add(believed if server.stale else live)
    return (commits.pop() or "") if len(commits) == 1 else ""


def live_rows(*, site: Site, truth: SiteTruth) -> dict[int, tuple[str, ...]]:
    """Deployment id -> names of the servers serving its release now, per the servers' facts
    (per the panel's belief where a server's facts are missing or older than the last
    deployment's end).

    One row per release: the newest that succeeded with it, so after a rollback the rollback
    says live, not also the deploy that first built the release.
    """
    believed = truth.believed_live.release if truth.believed_live is not None else ""
    serving: dict[str, list[str]] = {}
    for server in truth.servers:
        # Facts read before the last deployment ended say what was live then, not now.
        fresh = truth.observed and server.observed and not server.stale
        release = server.live if fresh else believed
        if release:
            serving.setdefault(release, []).append(server.server.name)
    rows = (Deployment.objects.filter(site=site, status=Status.SUCCEEDED, release__in=serving)
            .order_by("-id").values_list("id", "release"))
    marked: dict[int, tuple[str, ...]] = {}
    for pk, release in rows:
        if release in serving:
            marked[pk] = tuple(serving.pop(release))
    return marked


def sites_with_drift(*, org: Organization) -> set[int]:
    """Ids of the organization's sites where a server disagrees with the panel (one query)."""
    rows = (
        ServerReleaseFacts.objects.filter(site__organization=org, observed_at__isnull=False)
        .filter(site__servers=F("server"))  # still one of the site's servers
        .exclude(drift=[])
        .annotate(last_finished=Subquery(_last_finished(OuterRef("site"))))
        .values_list("site_id", "observed_at", "last_finished")
    )
    return {site_id for site_id, seen, last in rows if last is None or seen >= last}


def _last_finished(site) -> QuerySet:
    return (
        Deployment.objects.filter(site=site, started_at__isnull=False, finished_at__isnull=False)
        .order_by("-finished_at")
        .values("finished_at")[:1]
    )


def _last_finished_at(site: Site) -> datetime | None:
    return _last_finished(site).values_list("finished_at", flat=True).first()


def _is_stale(facts: ServerReleaseFacts | None, last_finished: datetime | None) -> bool:
    """Facts seen before the last deployment ended may no longer hold (until reconciled)."""
    if facts is None or facts.observed_at is None or last_finished is None:
        return False
    return facts.observed_at < last_finished


def _previously_live(site: Site, live: Deployment | None) -> set[str]:
    """What the panel believes was live before now: its live release (when the servers serve
    another one, e.g. a failed switch-back) and the release each of the latest runs replaced."""
    names = {live.release, live.previous_release} if live is not None else set()
    latest = (
        Deployment.objects.filter(site=site, started_at__isnull=False)
        .order_by("-started_at", "-id")
        .values_list("previous_release", flat=True)
        .first()
    )
    names.add(latest or "")
    return names - {""}


def _deploy_rows(site: Site, releases: set[str]) -> dict[str, Deployment]:
    """release -> the deploy that built it, a successful one preferred (one query)."""
    rows: dict[str, Deployment] = {}
    for row in Deployment.objects.filter(site=site, kind=Kind.DEPLOY, release__in=releases):
        held = rows.get(row.release)
        if held is None or (row.status == Status.SUCCEEDED and held.status != Status.SUCCEEDED):
            rows[row.release] = row
    return rows


def _row_rollback_targets(site: Site, live: Deployment | None) -> list[RollbackTarget]:
    live_release = live.release if live is not None else ""
    retained = _row_retained_releases(site=site, live=live)
    names = [name for name in retained if name != live_release]
    rows = _deploy_rows(site, set(names))
    return [
        RollbackTarget(
            release=name, commit=rows[name].commit_sha, deployment=rows[name],
            previously_live=bool(live and name == live.previous_release),
        )
        for name in names
        if name in rows and rows[name].status == Status.SUCCEEDED
    ]


def site_list_with_deployments(*, org: Organization, servers: bool = True) -> QuerySet[Site]:
    """The organization's sites (sites.selectors.site_list) with their live release and latest
    deployment.

    Annotations (no N+1): `live_release`, `live_commit`, `last_deployment_id`,
    `last_status`, `last_created_at`. Two queries however many sites there are (one without
    `servers`). Each subquery reads one row of an index (deployment_site_recent,
    deployment_site_live).
    """
    latest = Deployment.objects.filter(site=OuterRef("pk")).order_by("-id")
    live = Deployment.objects.filter(site=OuterRef("pk"), status=Status.SUCCEEDED).order_by(
        "-finished_at", "-id"
    )
    return site_list(org=org, servers=servers).annotate(
        live_release=Subquery(live.values("release")[:1]),
        live_commit=Subquery(live.values("commit_sha")[:1]),
        last_deployment_id=Subquery(latest.values("id")[:1]),
        last_status=Subquery(latest.values("status")[:1]),
        last_created_at=Subquery(latest.values("created_at")[:1]),
    )


@dataclass(frozen=True)
class ProvisioningPanel:
    """What the site page shows about provisioning: where it ran, the last job, and the
    missing-extension warnings of the last deploy."""

    provisioned: list[ProvisionedServer]
    last: Deployment | None
    extension_warnings: list[tuple[str, str]]  # (server, warning)
    scheduler: bool = False
    has_certificate: bool = False


def provisioning_panel(*, site: Site) -> ProvisioningPanel:
    """Four queries, whatever the number of servers."""
    provisioned = list(ProvisionedServer.objects.filter(site=site).select_related("server")
                       .order_by("server__name"))
    last = Deployment.objects.filter(site=site, kind=Kind.PROVISION).order_by("-id").first()
    last_deploy = (Deployment.objects.filter(site=site, kind=Kind.DEPLOY)
                   .exclude(status=Status.QUEUED).order_by("-id").values_list("id", flat=True))
    warnings = LogLine.objects.filter(deployment_id__in=last_deploy[:1],
                                      text__startswith=MISSING_EXTENSIONS)
    settings = SiteProvisioning.objects.filter(site=site).first()
    return ProvisioningPanel(
        provisioned, last, list(warnings.values_list("server", "text")),
        scheduler=bool(settings and settings.scheduler_enabled),
        has_certificate=bool(settings and settings.tls_certificate),
    )
