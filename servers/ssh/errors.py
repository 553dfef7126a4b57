"""Every failure the SSH layer reports, each with a stable `kind` for the UI and logs."""

from __future__ import annotations


class SSHError(Exception):
    """Base of all SSH failures; `kind` says which one without isinstance checks."""

    kind: str = "error"


class Unreachable(SSHError):
    """The TCP connection could not be made (refused, no route, unknown host)."""

    kind = "unreachable"


class ConnectTimeout(SSHError):
    """Connecting or logging in took longer than the target allows."""

    kind = "timeout"


class AuthFailed(SSHError):
    """The server refused every client key."""

    kind = "auth_failed"


class HostKeyChanged(SSHError):
    """The server presented a host key other than the pinned one (refused before login)."""

    kind = "host_key_changed"

    def __init__(
        self,
        message: str,
        *,
        expected_fingerprint: str,
        presented_fingerprint: str,
        presented_key: str,
    ) -> None:
        super().__init__(message)
        self.expected_fingerprint = expected_fingerprint
        self.presented_fingerprint = presented_fingerprint
        self.presented_key = presented_key


class CommandTimeout(SSHError):
    """A remote command ran past its timeout; its whole process group was killed."""

    kind = "timeout"


class ConnectionLost(SSHError):
    """The connection went away while a command was starting or running.

    The remote command may still be running (an orphan): whoever retries or undoes the
    work must kill it over a fresh connection first.
    """

    kind = "connection_lost"
