"""The deploy context carries each server's stored stack check: warnings and the reload choice."""

from __future__ import annotations

from deployments.context_builder import _server_spec
from servers.stack.check import parse_nginx
from servers.stack.probe import FpmMaster, StackFacts
from servers.stack.store import stack_to_json

NGINX = (
    "# configuration file /etc/nginx/sites-enabled/app:\nserver {\n"
    " root DEPLOY/current/public;\n location ~ \\.php$ {\n  fastcgi_pass 127.0.0.1:9000;\n"
    "  fastcgi_param SCRIPT_FILENAME VAR$fastcgi_script_name;\n"
    "  fastcgi_param DOCUMENT_ROOT VAR;\n }\n}\n"
)


def stored_stack(deploy_path: str, *, var: str, timeout: str) -> dict:
    """What a connection check stores for a host serving the site with these settings."""
    dump = NGINX.replace("DEPLOY", deploy_path).replace("VAR", var)
    opcache = {"opcache.enable": "On", "opcache.validate_timestamps": "On"}
    fpm = FpmMaster("/etc/php/8.2/fpm/php-fpm.conf", {"process_control_timeout": timeout},
                    ["127.0.0.1:9000"], opcache)
    return stack_to_json(StackFacts(nginx=parse_nginx(dump), fpm=[fpm], notes=[]))


def test_it_warns_about_a_misconfigured_stack(site, server):
    server.stack = stored_stack(site.deploy_path, var="$document_root", timeout="0")
    spec = _server_spec(server, site)
    assert any("$realpath_root" in w for w in spec.stack_warnings)
    assert any("process_control_timeout = 10s" in w for w in spec.stack_warnings)


def test_it_skips_the_reload_that_would_only_drop_requests(site, server):
    server.stack = stored_stack(site.deploy_path, var="$realpath_root", timeout="0")
    spec = _server_spec(server, site)
    assert spec.reload == "skip"


def test_it_reloads_on_the_recommended_stack_without_warnings(site, server):
    server.stack = stored_stack(site.deploy_path, var="$realpath_root", timeout="10s")
    spec = _server_spec(server, site)
    assert spec.reload == "reload" and spec.stack_warnings == ()


def test_it_reloads_when_the_stack_was_never_checked(site, server):
    server.stack = None
    assert _server_spec(server, site).reload == "reload"
