"""Opening a pinned (or first-use) SSH connection with only the keys we were given."""

from __future__ import annotations

import asyncio
import errno
import os
import socket
from dataclasses import dataclass, field

import asyncssh

from servers.ssh.connection import RemoteConnection
from servers.ssh.errors import AuthFailed, ConnectTimeout, HostKeyChanged, SSHError, Unreachable
from servers.ssh.keys import HostKeyPolicy, fingerprint, public_key_line


@dataclass(frozen=True)
class SSHTarget:
    """Where and how to log in. `host_key` None means trust on first use (then pin it)."""

    host: str
    port: int
    username: str
    # Private keys: never in repr(), so a logged or formatted target cannot leak them.
    client_keys: tuple[str, ...] = field(repr=False)
    host_key: str | None = None
    connect_timeout: float = 10.0
    login_timeout: float = 15.0
    keepalive_interval: float = 15.0

    @property
    def label(self) -> str:
        """`user@host:port`, for messages."""
        return f"{self.username}@{self.host}:{self.port}"

    @property
    def address(self) -> str:
        """`host:port`, for messages about the network rather than the login."""
        return f"{self.host}:{self.port}"


# AES-GCM first: asyncssh seals each chacha20-poly1305 packet with three cipher objects built
# in Python (the packet key, the length and the Poly1305 key), AES-GCM with one AES-NI call;
# on the worker that was about a tenth of a deploy's CPU (docs/benchmarks.md, "Worker cost
# per deployment"). Both are authenticated ciphers; the rest of asyncssh's defaults follow.
ENCRYPTION_ALGS = tuple(dict.fromkeys(
    ["aes128-gcm@openssh.com", "aes256-gcm@openssh.com",
     *(alg.decode() for alg in asyncssh.encryption.get_default_encryption_algs())]
))


async def connect(target: SSHTarget) -> RemoteConnection:
    """Connect and log in, or raise Unreachable, ConnectTimeout, AuthFailed, HostKeyChanged."""
    keys = _client_keys(target)
    policy = HostKeyPolicy(_pinned_key(target))
    sock = await _open_socket(target)
    try:
        conn = await asyncssh.connect(
            target.host,
            target.port,
            sock=sock,
            username=target.username,
            client_factory=lambda: policy,
            known_hosts=policy.known_hosts(),
            server_host_key_algs=policy.host_key_algorithms(),
            encryption_algs=ENCRYPTION_ALGS,
            # Only the keys we were given: no agent, no ~/.ssh config, keys or CA bundle.
            client_keys=keys,
            agent_path=None,
            config=[],
            x509_trusted_certs=None,
            x509_trusted_cert_paths=None,
            preferred_auth="publickey",
            password_auth=False,
            kbdint_auth=False,
            gss_auth=False,
            host_based_auth=False,
            # The TCP connection exists already: what is left is the handshake and login.
            connect_timeout=target.login_timeout,
            login_timeout=target.login_timeout,
            keepalive_interval=target.keepalive_interval,
            keepalive_count_max=3,
        )
    except BaseException as exc:
        sock.close()
        translated = _translate(exc, target, policy)
        if translated is None:
            raise
        raise translated from exc
    return RemoteConnection(conn, target.label)


def _client_keys(target: SSHTarget) -> list[asyncssh.SSHKey]:
    if not target.client_keys:
        raise AuthFailed(f"authentication failed for {target.label}: no client key given")
    try:
        return [asyncssh.import_private_key(text) for text in target.client_keys]
    except (asyncssh.KeyImportError, ValueError) as exc:
        raise SSHError(f"invalid client key for {target.label}: {exc}") from None


def _pinned_key(target: SSHTarget) -> asyncssh.SSHKey | None:
    if target.host_key is None:
        return None
    try:
        return asyncssh.import_public_key(target.host_key.strip())
    except (asyncssh.KeyImportError, ValueError) as exc:
        raise SSHError(f"invalid pinned host key for {target.address}: {exc}") from None


async def _open_socket(target: SSHTarget) -> socket.socket:
    """TCP-connect within `connect_timeout`, trying each resolved address in turn."""
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(target.connect_timeout):
            infos = await loop.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
            last_error: OSError = OSError(errno.EHOSTUNREACH, "no address")
            for family, kind, proto, _name, address in infos:
                sock = socket.socket(family, kind, proto)
                sock.setblocking(False)
                try:
                    await loop.sock_connect(sock, address)
                    return sock
                except BaseException as exc:
                    sock.close()
                    if not isinstance(exc, OSError):
                        raise
                    last_error = exc
            raise last_error
    except TimeoutError:
        raise ConnectTimeout(
            f"timeout: {target.address} did not accept a connection "
            f"within {target.connect_timeout}s"
        ) from None
    except socket.gaierror as exc:
        raise Unreachable(
            f"unreachable: {target.address} (cannot resolve host: {exc.strerror})"
        ) from None
    except OSError as exc:
        raise Unreachable(f"unreachable: {target.address} ({_reason(exc)})") from None


def _reason(exc: OSError) -> str:
    if exc.errno:
        return os.strerror(exc.errno).lower()
    return str(exc) or type(exc).__name__


def _translate(exc: BaseException, target: SSHTarget, policy: HostKeyPolicy) -> SSHError | None:
    """Map asyncssh's failures onto our error kinds, with messages a person can act on."""
    if isinstance(exc, asyncssh.HostKeyNotVerifiable) and policy.pinned and policy.presented:
        return _host_key_changed(target, policy.pinned, policy.presented)
    if isinstance(exc, asyncssh.PermissionDenied):
        return AuthFailed(f"authentication failed for {target.label}")
    if isinstance(exc, TimeoutError) or (
        isinstance(exc, asyncssh.ConnectionLost) and "timeout" in str(exc).lower()
    ):
        return ConnectTimeout(
            f"timeout: login to {target.label} took longer than {target.login_timeout}s"
        )
    if isinstance(exc, asyncssh.Error | OSError):
        return SSHError(f"ssh to {target.label} failed: {exc}")
    return None  # cancellation and programming errors pass through unchanged


def _host_key_changed(
    target: SSHTarget, pinned: asyncssh.SSHKey, presented: asyncssh.SSHKey
) -> HostKeyChanged:
    expected = pinned.get_fingerprint("sha256")
    presented_line = public_key_line(presented)
    got = fingerprint(presented_line)
    return HostKeyChanged(
        f"host key changed for {target.address}: expected {expected}, got {got}",
        expected_fingerprint=expected,
        presented_fingerprint=got,
        presented_key=presented_line,
    )
