"""The demo server and site that `make run` gives a newcomer (called by `seed_demo`).

Layout under the demo directory (var/demo):
    sshd/              the private sshd's state; its host key is created here first so the site
                       can pin it before the sshd ever starts
    authorized_keys    the demo organization's public keys + the demo site's deploy key
    git/demo.git       the demo app (testbed/apps/demo) as a bare repository, served over the sshd
    srv/demo/          the site's deploy path (releases/, shared/, current)
    web/fpm.pid        written by `python -m testbed.web serve --dir web` (the reload target)
    placeholder/       not-deployed.html: what the demo site's URL shows before its first deploy
"""

from __future__ import annotations

import getpass
from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from servers.models import OrganizationKey, Server
from servers.services import server_create, server_update
from sites.models import Site
from sites.services import site_create, site_update
from tenancy.audit import Actor
from tenancy.models import Organization, User
from testbed.gitrepo import AppRepo
from testbed.sshd import _ensure_host_key

RELOAD_FPM = 'kill -USR2 "$(cat "$1")"'  # the argv's $1 is the pid file; re-read at every reload


def seed_server_and_site(*, org: Organization, owner: User, demo_dir: Path, ssh_port: int):
    """Create or refresh the Demo server and the demo site; write the sshd's authorized_keys."""
    actor = Actor(user=owner)
    host_key = _ensure_host_key(_mkdir(demo_dir / "sshd") / "ssh_host_ed25519_key")
    repo = _demo_repository(demo_dir / "git")
    server = _demo_server(org, actor, ssh_port, roots=[str(demo_dir / "srv")])
    site_fields = {
        "domain": "127.0.0.1",
        "repository_url": repo.ssh_url(getpass.getuser(), "127.0.0.1", ssh_port),
        "branch": repo.branch,
        "deploy_path": str(demo_dir / "srv" / "demo"),
        "web_dir": "public",
        "preset": Site.Preset.PHP,
        "run_migrations": False,
        "reload_method": Site.ReloadMethod.PHP_FPM,
        "reload_command": ["sh", "-c", RELOAD_FPM, "sh", str(demo_dir / "web" / "fpm.pid")],
        "repository_host_keys": f"[127.0.0.1]:{ssh_port} {host_key}",
    }
    site = Site.objects.for_org(org).filter(name="demo").first()
    if site is None:
        site = site_create(
            organization=org, actor=actor, servers=[server], name="demo", **site_fields
        )
    else:
        site = site_update(site=site, actor=actor, servers=[server], **site_fields)
    _write_authorized_keys(demo_dir / "authorized_keys", org, site)
    write_placeholder(demo_dir / "placeholder", site)
    return server, site


def write_placeholder(directory: Path, site: Site) -> Path:
    """The page the demo site's URL shows until its first deploy: where to click Deploy."""
    page_url = settings.PUBLIC_URL.rstrip("/") + reverse(
        "sites:detail", kwargs={"org": site.organization.slug, "pk": site.pk}
    )
    html = render_to_string("demo/not_deployed.html", {"site": site, "page_url": page_url})
    target = _mkdir(directory) / "not-deployed.html"
    temporary = target.with_suffix(".tmp")
    temporary.write_text(html)
    temporary.replace(target)  # the web server never reads half a page
    return target


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _demo_repository(base: Path) -> AppRepo:
    bare = base / "demo.git"
    if bare.exists():
        return AppRepo(path=bare, work_tree=base / "demo-work")
    return AppRepo.create(_mkdir(base), "demo")


def _demo_server(org: Organization, actor: Actor, ssh_port: int, roots: list[str]) -> Server:
    """The demo's server; its deploy roots hold the demo's own directory (sites may live there)."""
    server = Server.objects.for_org(org).filter(name="Demo server").first()
    if server is None:
        return server_create(org=org, actor=actor, name="Demo server", host="127.0.0.1",
                             port=ssh_port, user=getpass.getuser(), deploy_roots=roots)
    if server.port != ssh_port or server.deploy_roots != roots:
        server = server_update(server=server, actor=actor, port=ssh_port, deploy_roots=roots)
    return server


def _write_authorized_keys(path: Path, org: Organization, site: Site) -> None:
    keys = OrganizationKey.objects.filter(organization=org, retired_at__isnull=True)
    lines = [key.public_key.strip() for key in keys] + [site.deploy_key_public.strip()]
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)
