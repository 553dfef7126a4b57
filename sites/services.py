"""Writes to sites: create, update, delete. Atomic, validated, audited (secrets by name only)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from servers.models import Server
from servers.ssh import generate_keypair
from sites import validators as v
from sites.environment import EnvChanges, env_changes
from sites.models import HEALTH_CHECK_FIELDS, EnvironmentVersion, Site, SiteHook, Worker
from sites.secrets import MASK
from sites.validators import MAX_WORKERS, deploy_path_outside
from tenancy.audit import Actor, audit_record
from tenancy.models import Organization

# Fields a caller may set; everything else (keys, webhook uuid, organization) is ours.
EDITABLE_FIELDS = frozenset({
    "name", "domain", "repository_url", "branch", "deploy_path", "web_dir", "shared_dirs",
    "shared_files", "env", "releases_to_keep", "preset", "run_migrations", "build_commands",
    "deploy_script", "reload_method", "reload_command", "auto_deploy", "repository_host_keys",
    "https_token", "secret_env_names", "approval_role", "approval_hours", *HEALTH_CHECK_FIELDS,
})
WORKER_FIELDS = ("name", "kind", "octane_server", "octane_port", "command", "processes",
                 "stop_wait_seconds")
# Changes to these are audited by name only: their values are secrets.
SECRET_FIELDS = frozenset({"env", "https_token"})
# Fields whose change makes a new environment version (what the next deploy ships).
ENV_FIELDS = frozenset({"env", "secret_env_names"})


class NoSuchVariable(LookupError):
    """The site has no environment variable of that name."""


def site_create(
    *, organization: Organization, actor: Actor, servers: Iterable[Server], **fields: Any
) -> Site:
    """Create a site with its own ed25519 deploy key. Raises ValidationError. Audited."""
    site = Site(organization=organization)
    _assign(site, fields)
    private, public = generate_keypair(f"deploynix-site-{organization.slug}")
    site.deploy_key_private, site.deploy_key_public = private, public
    servers = _servers_of(organization, servers)
    with transaction.atomic():
        _validate(site, servers)
        site.save()
        site.servers.set(servers)
        _record_env_version(site, actor)
        audit_record(
            actor=actor, organization=organization, verb="site.created", target=site,
            after=_public_view(site, fields),
        )
    return site


def site_update(
    *, site: Site, actor: Actor, servers: Iterable[Server] | None = None, **fields: Any
) -> Site:
    """Change a site's settings (and servers, when given). Raises ValidationError. Audited."""
    before = _public_view(site, fields)
    _assign(site, fields)
    if servers is not None:
        servers = _servers_of(site.organization, servers)
    with transaction.atomic():
        _validate(site, servers if servers is not None else list(site.servers.all()))
        site.save()
        if servers is not None:
            site.servers.set(servers)
        after = _public_view(site, fields)
        if ENV_FIELDS & set(fields):
            version = _record_env_version(site, actor)
            after["env_version"] = version.number if version else None
        audit_record(
            actor=actor, organization=site.organization, verb="site.updated", target=site,
            before=before, after=after,
        )
    return site


def site_env_update(
    *, site: Site, actor: Actor, env: dict[str, str], secret_env_names: list[str]
) -> EnvironmentVersion | None:
    """Save the environment editor: the variables (a value of ******** keeps the stored one)
    and which are secret. A new version when anything changed (None when nothing did); it goes
    live with the next deploy. Raises ValidationError, writing nothing. Audited, names only."""
    site.env = _unmasked(site, env)
    site.secret_env_names = secret_env_names
    with transaction.atomic():
        site.full_clean()
        site.save(update_fields=["environment", "secret_env_names"])
        version = _record_env_version(site, actor)
        if version is not None:
            audit_record(
                actor=actor, organization=site.organization, verb="site.env_updated",
                target=site, after={"version": version.number, **_version_changes(version)},
            )
    return version


def site_hooks_update(*, site: Site, actor: Actor, hooks: dict[str, tuple[str, int]]) -> None:
    """Set the site's hook scripts: {point: (script, timeout seconds)}; an empty script removes
    the hook. Validated whole before anything is written. Audited (points and sizes only)."""
    cleaned = {point: _clean_hook(site, point, script, timeout)
               for point, (script, timeout) in hooks.items()}
    with transaction.atomic():
        before = {hook.point: hook.timeout for hook in site.hooks.all()}
        for point, hook in cleaned.items():
            SiteHook.objects.filter(site=site, point=point).delete()
            if hook is not None:
                hook.save()
        after = {hook.point: hook.timeout for hook in site.hooks.all()}
        audit_record(actor=actor, organization=site.organization, verb="site.hooks_updated",
                     target=site, before={"hooks": before}, after={"hooks": after})


def _clean_hook(site: Site, point: str, script: str, timeout: int) -> SiteHook | None:
    if point not in SiteHook.Point.values:
        raise ValidationError({"hooks": [f"Unknown hook point: {point[:40]!r}."]})
    if not (script or "").strip():
        return None
    hook = SiteHook(site=site, point=point, script=v.clean_deploy_script(script), timeout=timeout)
    try:
        hook.full_clean(exclude=["site"], validate_unique=False)
    except ValidationError as exc:
        label = SiteHook.Point(point).label
        raise ValidationError({point: [f"{label}: {m}" for m in exc.messages]}) from None
    return hook


def _record_env_version(site: Site, actor: Actor) -> EnvironmentVersion | None:
    """A new numbered version of the site's environment when it differs from the last one.

    The site row is locked first, so two saves at once get consecutive numbers.
    """
    Site.objects.select_for_update().filter(pk=site.pk).first()
    last = site.env_versions.order_by("-number").first()
    changes = env_changes(last.env if last else {}, site.env)
    secrets_before = last.secret_env_names if last else []
    if not changes and secrets_before == list(site.secret_env_names):
        return None
    return EnvironmentVersion.objects.create(
        site=site, number=(last.number if last else 0) + 1, environment=site.environment,
        secret_env_names=list(site.secret_env_names), created_by=actor.user,
        created_by_name=actor.name[:254], **changes.as_dict(),
    )


def _version_changes(version: EnvironmentVersion) -> dict[str, list[str]]:
    return EnvChanges(version.added, version.removed, version.changed).as_dict()


def site_delete(*, site: Site, actor: Actor) -> None:
    """Delete a site and its deployment history (the servers keep their files). Audited."""
    with transaction.atomic():
        audit_record(
            actor=actor, organization=site.organization, verb="site.deleted", target=site,
            before={"name": site.name, "repository_url": site.repository_url},
        )
        site.delete()


def site_secret_reveal(*, site: Site, actor: Actor, name: str) -> str:
    """The value of the environment variable `name`, read on purpose. Audited (the name, never
    the value); raises NoSuchVariable. The caller checks the "view secrets" capability."""
    env = site.env
    if name not in env:
        raise NoSuchVariable(name)
    with transaction.atomic():
        audit_record(
            actor=actor, organization=site.organization, verb="site.secret_revealed",
            target=site, after={"name": name},
        )
    return env[name]


def worker_create(*, site: Site, actor: Actor, **fields: Any) -> Worker:
    """Add a worker to `site` (runs on its servers from the next deploy on). Raises
    ValidationError. Audited."""
    worker = Worker(site=site)
    _assign_worker(worker, fields)
    with transaction.atomic():
        site = Site.objects.select_for_update().get(pk=site.pk)  # the count below holds
        if site.workers.count() >= MAX_WORKERS:
            raise ValidationError({"name": [f"A site may have at most {MAX_WORKERS} workers."]})
        worker.full_clean()
        worker.save()
        if not site.workers_managed:
            Site.objects.filter(pk=site.pk).update(workers_managed=True)
        audit_record(actor=actor, organization=site.organization, verb="worker.created",
                     target=site, after=_worker_view(worker))
    return worker


def worker_update(*, worker: Worker, actor: Actor, **fields: Any) -> Worker:
    """Change a worker (applied by the next deploy). Raises ValidationError. Audited."""
    before = _worker_view(worker)
    _assign_worker(worker, fields)
    with transaction.atomic():
        worker.full_clean()
        worker.save()
        audit_record(actor=actor, organization=worker.site.organization, verb="worker.updated",
                     target=worker.site, before=before, after=_worker_view(worker))
    return worker


def worker_delete(*, worker: Worker, actor: Actor) -> None:
    """Delete a worker (the next deploy removes it from the servers). Audited."""
    with transaction.atomic():
        audit_record(actor=actor, organization=worker.site.organization, verb="worker.deleted",
                     target=worker.site, before=_worker_view(worker))
        worker.delete()


def _assign_worker(worker: Worker, fields: dict[str, Any]) -> None:
    unknown = set(fields) - set(WORKER_FIELDS)
    if unknown:
        raise TypeError(f"not editable: {', '.join(sorted(unknown))}")
    for name, value in fields.items():
        setattr(worker, name, value)


def _worker_view(worker: Worker) -> dict[str, Any]:
    """What the audit log keeps about a worker (its command included: it is not a secret)."""
    return {name: getattr(worker, name) for name in WORKER_FIELDS}


def _assign(site: Site, fields: dict[str, Any]) -> None:
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise TypeError(f"not editable: {', '.join(sorted(unknown))}")
    if isinstance(fields.get("env"), dict):
        fields = {**fields, "env": _unmasked(site, fields["env"])}
    for name, value in fields.items():
        setattr(site, name, value)


def _unmasked(site: Site, env: dict[str, Any]) -> dict[str, Any]:
    """`env` with each masked value (pages and the API show secrets as ********) replaced by
    the stored one, so a site can be edited without revealing its secrets."""
    stored = site.env if site.pk else {}
    masked_new = [name for name, value in env.items() if value == MASK and name not in stored]
    if masked_new:
        raise ValidationError({"environment": [
            f"Enter a value for {masked_new[0]}: {MASK} keeps a stored value, and it has none."
        ]})
    return {name: stored[name] if value == MASK else value for name, value in env.items()}


def _validate(site: Site, servers: list[Server]) -> None:
    # full_clean runs Site.clean(), which normalizes through sites.validators, and checks
    # the per-organization name uniqueness; the M2M is checked separately.
    site.full_clean()
    for server in servers:
        roots = server.allowed_deploy_roots
        if deploy_path_outside(site.deploy_path, roots, server.home):
            shown = ", ".join(server.home if root == "~" else root for root in roots)
            raise ValidationError({"deploy_path": [
                f"On {server.name} sites may only live under {shown}."
            ]})


def _servers_of(organization: Organization, servers: Iterable[Server]) -> list[Server]:
    chosen = list(servers)
    if not chosen:
        raise ValidationError({"servers": ["Choose at least one server."]})
    if any(server.organization_id != organization.id for server in chosen):
        # Same message as a missing server: do not confirm another organization's ids.
        raise ValidationError({"servers": ["Choose servers of this organization."]})
    return chosen


def _public_view(site: Site, fields: dict[str, Any]) -> dict[str, Any]:
    """What the audit log may keep about `fields`: values, except secrets (names only)."""
    view: dict[str, Any] = {}
    for name in sorted(fields):
        if name == "env":
            view["env_names"] = site.env_names
        elif name in SECRET_FIELDS:
            view[name] = "********" if getattr(site, name) else ""
        else:
            view[name] = getattr(site, name)
    return view
