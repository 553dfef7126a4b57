"""The SSH layer: connect to a server with pinned host keys, run commands, upload files.

Pure asyncio + asyncssh, no Django. The pipeline and the Django side import from here:

    conn = await connect(SSHTarget(host, port, user, client_keys=(private_key,), host_key=pinned))
    async with conn:
        result = await conn.run(["git", "fetch"], cwd="/srv/app/repo", on_line=sink.write)
"""

from __future__ import annotations

from servers.ssh.connection import RemoteConnection
from servers.ssh.errors import (
    AuthFailed,
    CommandTimeout,
    ConnectionLost,
    ConnectTimeout,
    HostKeyChanged,
    SSHError,
    Unreachable,
)
from servers.ssh.job import CommandResult
from servers.ssh.keys import fingerprint, generate_keypair
from servers.ssh.lines import OutputLine
from servers.ssh.login import SSHTarget, connect

__all__ = [
    "AuthFailed",
    "CommandResult",
    "CommandTimeout",
    "ConnectionLost",
    "ConnectTimeout",
    "HostKeyChanged",
    "OutputLine",
    "RemoteConnection",
    "SSHError",
    "SSHTarget",
    "Unreachable",
    "connect",
    "fingerprint",
    "generate_keypair",
]
