"""The files provisioning writes, as text: pure functions of a `SiteSpec` and the `HostFacts`.

What each setting is for (measured on Debian 12, docs/server-setup.md):
- nginx passes `$realpath_root`, so PHP sees releases/<ts>/... and a `current` switch is served
  by the very next request;
- the pool's OPcache never stats files (`validate_timestamps=0`): each deploy reloads PHP-FPM,
  which empties the cache, and the new release has new paths anyway;
- `process_control_timeout` (a global setting, so it gets its own drop-in) lets a graceful
  reload finish in-flight requests instead of cutting them (502s, truncated 200s).
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

from servers.provision.facts import HostFacts
from servers.shell import join

PROCESS_CONTROL_TIMEOUT = "10s"
CLIENT_MAX_BODY = "25m"
GLOBAL_DROP_IN = "00-deploynix-global.conf"
# Where certbot's webroot challenge files go (served for every Let's Encrypt site).
ACME_WEBROOT = "/var/www/letsencrypt"


@dataclass(frozen=True)
class SiteSpec:
    """One site as provisioning sees it (built from the Site row; no ORM here)."""

    name: str  # the site's slug, used in file names
    user: str
    deploy_path: str
    web_dir: str = "public"
    domains: tuple[str, ...] = ()
    scheduler: bool = False
    # PEM texts; both set: the server block also listens on 443 with them.
    certificate: str = field(default="", repr=False)
    private_key: str = field(default="", repr=False)
    http_port: int = 80
    https_port: int = 443
    # Set: Let's Encrypt through certbot's webroot (optional, untested against the real CA:
    # these machines cannot reach it); the registration e-mail.
    acme_email: str = ""

    @property
    def https(self) -> bool:
        return bool(self.certificate and self.private_key)

    @property
    def web_root(self) -> str:
        return posixpath.join(self.deploy_path, "current", self.web_dir).rstrip("/")


def socket_path(spec: SiteSpec, facts: HostFacts) -> str:
    """The pool's own unix socket, beside the distribution's (the pid file's directory)."""
    directory = posixpath.dirname(facts.fpm_pid_file) or "/run/php"
    return posixpath.join(directory, f"deploynix-{spec.name}.sock")


def fpm_pool(spec: SiteSpec, facts: HostFacts) -> str:
    """The site's own PHP-FPM pool, running as the site's user."""
    return f"""; Written by Deploynix for site {spec.name}; provisioning replaces changes.
[{spec.name}]
user = {spec.user}
group = {spec.user}
listen = {socket_path(spec, facts)}
listen.owner = www-data
listen.group = www-data
listen.mode = 0660
pm = dynamic
pm.max_children = 8
pm.start_servers = 2
pm.min_spare_servers = 1
pm.max_spare_servers = 3
pm.max_requests = 500
chdir = /
; Every deploy reloads PHP-FPM (which empties OPcache) and brings new paths: never stat files.
php_admin_value[opcache.enable] = 1
php_admin_value[opcache.validate_timestamps] = 0
php_admin_value[opcache.memory_consumption] = 128
php_admin_value[opcache.max_accelerated_files] = 20000
"""


def fpm_global() -> str:
    """The one global setting zero-downtime reloads need (a [global] section may be included)."""
    return f"""; Written by Deploynix: a graceful reload (SIGUSR2) lets in-flight requests finish.
[global]
process_control_timeout = {PROCESS_CONTROL_TIMEOUT}
"""


def nginx_site(spec: SiteSpec, facts: HostFacts) -> str:
    """The site's server block(s): HTTP, and HTTPS with the uploaded certificate when set."""
    names = " ".join(spec.domains) or "_"
    plain = _server(
        spec, facts, f"listen {spec.http_port};\n    listen [::]:{spec.http_port};", names
    )
    if not spec.https:
        return plain
    tls = (
        f"listen {spec.https_port} ssl;\n    listen [::]:{spec.https_port} ssl;\n"
        f"    ssl_certificate {tls_paths(spec, facts)[0]};\n"
        f"    ssl_certificate_key {tls_paths(spec, facts)[1]};"
    )
    return plain + "\n" + _server(spec, facts, tls, names)


def tls_paths(spec: SiteSpec, facts: HostFacts) -> tuple[str, str]:
    """Where the certificate and its key live (beside nginx's configuration, root only)."""
    base = posixpath.join(
        posixpath.dirname(facts.nginx_dir.rstrip("/")) or "/etc/nginx", "deploynix-tls"
    )
    return (posixpath.join(base, f"{spec.name}.crt"), posixpath.join(base, f"{spec.name}.key"))


def _server(spec: SiteSpec, facts: HostFacts, listen: str, names: str) -> str:
    return f"""# Written by Deploynix for site {spec.name}; provisioning replaces changes.
server {{
    {listen}
    server_name {names};
    root {spec.web_root};
    index index.php index.html;
    charset utf-8;
    client_max_body_size {CLIENT_MAX_BODY};
    client_body_timeout 30s;
    keepalive_timeout 30s;
    server_tokens off;

{_acme_location(spec)}    location / {{
        try_files $uri $uri/ /index.php?$query_string;
    }}

    location ~ \\.php$ {{
        try_files $uri =404;
        fastcgi_pass unix:{socket_path(spec, facts)};
        fastcgi_index index.php;
        include fastcgi_params;
        # The `current` symlink resolved per request: the next request after a switch
        # runs the new release (PHP's realpath cache would keep the old one).
        fastcgi_param SCRIPT_FILENAME $realpath_root$fastcgi_script_name;
        fastcgi_param DOCUMENT_ROOT $realpath_root;
        fastcgi_read_timeout 60s;
    }}

    location ~ /\\.(?!well-known).* {{
        deny all;
    }}
}}
"""


def _acme_location(spec: SiteSpec) -> str:
    """certbot --webroot writes its challenge under ACME_WEBROOT; nginx serves it from there
    (never from a release, which a deploy may replace between the write and the CA's visit)."""
    if not spec.acme_email:
        return ""
    return (f"    location ^~ /.well-known/acme-challenge/ {{\n        root {ACME_WEBROOT};\n"
            '        default_type "text/plain";\n    }\n\n')


def certbot_command(spec: SiteSpec) -> list[str]:
    """Obtain (or keep, while valid) the certificate of the site's domains by the webroot
    challenge, without a question (an e-mail given, terms agreed)."""
    domains = [word for domain in spec.domains for word in ("-d", domain)]
    return ["certbot", "certonly", "--webroot", "-w", ACME_WEBROOT, *domains,
            "--non-interactive", "--agree-tos", "-m", spec.acme_email, "--keep-until-expiring"]


def nginx_file(spec: SiteSpec, facts: HostFacts) -> str:
    """The server block's path, in the directory the http block includes."""
    return posixpath.join(facts.nginx_dir, f"deploynix-{spec.name}.conf")


def pool_file(spec: SiteSpec, facts: HostFacts) -> str:
    return posixpath.join(facts.pool_dir, f"deploynix-{spec.name}.conf")


CRON_DIR = "/etc/cron.d"


def cron_file(spec: SiteSpec) -> str:
    """/etc/cron.d/deploynix-<site> (cron.d ignores names with dots, so none here)."""
    return posixpath.join(CRON_DIR, f"deploynix-{spec.name}")


def cron_entry(spec: SiteSpec) -> str:
    """Laravel's scheduler every minute, as the site's user, from `current`."""
    return (
        f"# Written by Deploynix for site {spec.name}.\n"
        "SHELL=/bin/sh\nPATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"
        f"* * * * * {spec.user} {join(['cd', posixpath.join(spec.deploy_path, 'current')])}"
        " && php artisan schedule:run >> /dev/null 2>&1\n"
    )
