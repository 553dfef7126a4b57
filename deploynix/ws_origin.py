"""Which pages may open a WebSocket to the panel: an exact scheme + host + port match.

Channels' AllowedHostsOriginValidator compares only the host name of the Origin with
ALLOWED_HOSTS, so a page served by anything else on an allowed host (`http://panel:9999`) could
open sockets with the visitor's session cookie. Allowed here, compared with the port made
explicit (80 for http, 443 for https):

- the public URL's origin (DEPLOYNIX_PUBLIC_URL) and the trusted CSRF origins;
- `http://<host>` and `https://<host>` on their default ports for each of ALLOWED_HOSTS;
- the socket's own origin: the Host header it was sent to, when that host is allowed (a panel
  on a non-default port, as in development, talks to itself).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
Origin = tuple[str, str, int]  # scheme (http/https), host, port


def parse_origin(value: str) -> Origin | None:
    """(scheme, host, port) of an origin URL; None for "null" or anything malformed."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    return scheme, parts.hostname.lower(), port or DEFAULT_PORTS[scheme]


def configured_origins() -> set[Origin]:
    urls = [settings.PUBLIC_URL, *getattr(settings, "CSRF_TRUSTED_ORIGINS", [])]
    hosts = [host.strip("[]") for host in settings.ALLOWED_HOSTS if "*" not in host]
    urls += [f"{scheme}://{host}" for host in hosts for scheme in ("http", "https")]
    return {origin for origin in map(_parse_host_url, urls) if origin}


def own_origin(scope) -> Origin | None:
    """The origin of the panel as this socket addressed it (its Host header), if allowed."""
    host_header = _header(scope, b"host")
    if not host_header or not validate_host(split_domain_port(host_header)[0],
                                            settings.ALLOWED_HOSTS):
        return None
    scheme = "https" if scope.get("scheme") == "wss" else "http"
    return parse_origin(f"{scheme}://{host_header}")


def origin_allowed(scope) -> bool:
    origin = parse_origin(_header(scope, b"origin"))
    if origin is None:
        return False
    return origin in configured_origins() or origin == own_origin(scope)


class OriginValidator:
    """ASGI middleware: refuse the handshake of a WebSocket whose Origin is not allowed."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket" and not origin_allowed(scope):
            return await WebsocketDenier()(scope, receive, send)
        return await self.app(scope, receive, send)


def _parse_host_url(url: str) -> Origin | None:
    if url.count(":") > 2 and "[" not in url:  # a bare IPv6 address: bracket it
        scheme, _, host = url.partition("://")
        url = f"{scheme}://[{host}]"
    return parse_origin(url)


def _header(scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return ""
