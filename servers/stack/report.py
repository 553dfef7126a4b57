"""What the stack panels show: a site's findings on one server, judged from the stored stack.

No SSH and no queries here: callers pass servers and sites they already loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from servers.stack.check import Finding
from servers.stack.fixes import fix_step
from servers.stack.probe import judge_site
from servers.stack.store import stack_from_json

if TYPE_CHECKING:
    from servers.models import Server

# Where the tested recommended configuration lives, per part of the stack.
SETUP_DOC = "docs/server-setup.md"
DOC_SECTIONS = {"nginx": "§2 nginx", "fpm": "§3 PHP-FPM"}


class JudgedSite(Protocol):
    """What the stack check reads of a site. sites.models.Site has it: servers sits below sites,
    so it names the shape it needs, never the model."""

    organization_id: int
    deploy_path: str
    web_dir: str
    reload_method: str


@dataclass(frozen=True)
class ShownFinding:
    """A finding plus the CSS badge class and the guide section that explains the fix."""

    finding: Finding
    badge: str
    doc_section: str
    fix_step: str = ""  # the provisioning step that applies the recommended setting


@dataclass
class SiteStack:
    """One site's stack check on one server."""

    server: Server
    site: JudgedSite
    checked: bool
    findings: list[ShownFinding] = field(default_factory=list)
    reload: str = ""
    reload_summary: str = ""

    @property
    def errors(self) -> int:
        return sum(1 for shown in self.findings if shown.finding.level == "error")


@dataclass(frozen=True)
class NginxRoot:
    """A server block found on the server: its root and where it is configured."""

    root: str
    names: tuple[str, ...]
    where: str


def _shown(finding: Finding) -> ShownFinding:
    badge = {"ok": "ok", "warning": "warn", "error": "bad"}.get(finding.level, "")
    part = "nginx" if finding.code.startswith(("realpath_", "root_", "nginx_")) else "fpm"
    step = fix_step(finding.code) if finding.level != "ok" else None
    return ShownFinding(finding, badge, DOC_SECTIONS[part], step or "")


def judge_stored(server: Server, site: JudgedSite) -> SiteStack:
    """Judge `site` against `server.stack` (as stored by the last connection check)."""
    facts = stack_from_json(server.stack)
    if facts is None:
        return SiteStack(server=server, site=site, checked=False)
    findings, reload = judge_site(
        facts, deploy_path=site.deploy_path, web_dir=site.web_dir, reload_method=site.reload_method
    )
    return SiteStack(
        server=server,
        site=site,
        checked=True,
        findings=[_shown(finding) for finding in findings],
        reload=reload,
        reload_summary=reload_summary(reload, findings, site.reload_method),
    )


def reload_summary(reload: str, findings: list[Finding], reload_method: str) -> str:
    """What the deploy's reload step will do on this server, in one sentence."""
    if reload_method != "php-fpm":
        return "No PHP-FPM reload: the site's reload method is not PHP-FPM."
    codes = {f.code: f.level for f in findings}
    if reload == "skip":
        opcache = "OPcache is off" if "opcache_off" in codes else "OPcache revalidates timestamps"
        return (
            "Reload skipped: it would drop requests with process_control_timeout = 0 and is not "
            f"needed because nginx passes $realpath_root and {opcache}."
        )
    if codes.get("fpm_process_control_timeout") == "ok":
        return "Graceful PHP-FPM reload: in-flight requests finish (process_control_timeout > 0)."
    reason = (
        "OPcache never revalidates timestamps"
        if "opcache_reload" in codes
        else "nginx does not pass $realpath_root"
    )
    return (
        "Graceful PHP-FPM reload, although process_control_timeout = 0 may drop in-flight "
        f"requests: it is needed because {reason}, so the new release is not seen otherwise."
    )


def nginx_roots(stack: dict[str, Any] | None) -> list[NginxRoot]:
    """Every nginx server block with a root in the stored stack, in configuration order."""
    facts = stack_from_json(stack)
    if facts is None:
        return []
    return [
        NginxRoot(root=" ".join(block.root.args), names=block.names, where=block.root.where)
        for block in facts.nginx
        if block.root is not None
    ]
