"""Key helpers: fingerprints, key generation, and the host key policy (pin or first use)."""

from __future__ import annotations

import asyncssh
from asyncssh.public_key import get_default_public_key_algs


def fingerprint(public_key_line: str) -> str:
    """Return the SHA256 fingerprint of an OpenSSH public key line, as `ssh-keygen -lf` prints."""
    return asyncssh.import_public_key(public_key_line.strip()).get_fingerprint("sha256")


def generate_keypair(comment: str = "") -> tuple[str, str]:
    """Generate an ed25519 key pair: (private key in OpenSSH format, public key line)."""
    key = asyncssh.generate_private_key("ssh-ed25519", comment=comment or None)
    private = key.export_private_key("openssh").decode()
    return private, public_key_line(key)


def public_key_line(key: asyncssh.SSHKey) -> str:
    """Render a key's public half as one OpenSSH line, without trailing newline."""
    return key.export_public_key("openssh").decode().strip()


class HostKeyPolicy(asyncssh.SSHClient):
    """Accept exactly the pinned host key, or any key when nothing is pinned (first use).

    asyncssh asks `validate_host_public_key` during key exchange, before any
    authentication, so a refused key means our client keys were never offered and
    no command can have run. The presented key is kept so the caller can report it
    (changed key) or pin it (first use).
    """

    def __init__(self, pinned: asyncssh.SSHKey | None) -> None:
        self.pinned = pinned
        self.presented: asyncssh.SSHKey | None = None

    def known_hosts(
        self,
    ) -> tuple[list[asyncssh.SSHKey], list[asyncssh.SSHKey], list[asyncssh.SSHKey]]:
        """Trusted host keys, trusted CA keys, revoked keys: nothing from ~/.ssh or /etc/ssh.

        Listing the pinned key also makes the server offer that key type first.
        """
        return ([self.pinned] if self.pinned else [], [], [])

    def host_key_algorithms(self) -> list[str] | str:
        """Ask for the pinned key's type first, but accept any type the server has.

        asyncssh would otherwise offer only the pinned key's algorithms, and a server
        whose key type changed would fail key exchange instead of reporting the new key.
        """
        if self.pinned is None:
            return "default"
        preferred = [alg.decode() for alg in self.pinned.sig_algorithms]
        others = [alg.decode() for alg in get_default_public_key_algs()]
        return list(dict.fromkeys(preferred + others))

    def validate_host_public_key(
        self, host: str, addr: str, port: int, key: asyncssh.SSHKey
    ) -> bool:
        # Only called for keys not already trusted through known_hosts().
        self.presented = key
        return self.pinned is None
