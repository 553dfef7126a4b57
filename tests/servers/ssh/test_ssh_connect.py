"""Connecting: host key pinning and first use, authentication, unreachable hosts."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import subprocess
import time

import asyncssh
import pytest

from servers.ssh import (
    AuthFailed,
    ConnectTimeout,
    HostKeyChanged,
    Unreachable,
    connect,
    fingerprint,
    generate_keypair,
)
from tests.fixtures.sshd import target_for

pytestmark = pytest.mark.ssh


def ssh_keygen_fingerprint(public_key_file) -> str:
    result = subprocess.run(["ssh-keygen", "-lf", str(public_key_file)], capture_output=True)
    return result.stdout.decode().split()[1]


async def test_it_trusts_the_first_host_key_and_exposes_it_for_pinning(sshd_host, ssh_client_key):
    async with await connect(target_for(sshd_host, ssh_client_key[0], pinned=False)) as conn:
        expected = ssh_keygen_fingerprint(sshd_host.base / "ssh_host_ed25519_key.pub")
        assert conn.host_key_fingerprint == expected
        assert fingerprint(conn.host_key) == expected


def test_it_fingerprints_like_ssh_keygen(sshd_host):
    expected = ssh_keygen_fingerprint(sshd_host.base / "ssh_host_ed25519_key.pub")
    assert fingerprint(sshd_host.host_key_line) == expected


async def test_it_connects_when_the_pinned_key_matches(ssh_target):
    async with await connect(ssh_target) as conn:
        assert (await conn.run(["true"])).exit_status == 0
        assert conn.host_key.split()[:2] == ssh_target.host_key.split()[:2]


async def test_it_refuses_a_changed_host_key_before_authenticating(make_sshd_host, ssh_client_key):
    host = make_sshd_host()
    pinned_to_old_key = target_for(host, ssh_client_key[0])
    host.regenerate_host_key()
    with pytest.raises(HostKeyChanged) as caught:
        await connect(pinned_to_old_key)
    # sshd logs every client key offered to it: ours never was, so nothing could run.
    assert fingerprint(ssh_client_key[1]) not in host.log_path.read_text()
    expected, got = fingerprint(pinned_to_old_key.host_key), fingerprint(host.host_key_line)
    assert f"expected {expected}, got {got}" in str(caught.value)
    assert caught.value.kind == "host_key_changed"


async def test_it_reports_the_presented_key_so_it_can_be_re_pinned(make_sshd_host, ssh_client_key):
    host = make_sshd_host()
    stale = target_for(host, ssh_client_key[0])
    host.regenerate_host_key()
    with pytest.raises(HostKeyChanged) as caught:
        await connect(stale)
    repinned = dataclasses.replace(stale, host_key=caught.value.presented_key)
    async with await connect(repinned) as conn:
        assert conn.host_key_fingerprint == caught.value.presented_fingerprint


async def test_it_reports_a_host_key_of_another_type_as_changed(ssh_target):
    rsa_pin = asyncssh.generate_private_key("ssh-rsa", key_size=2048)
    rsa_line = rsa_pin.export_public_key("openssh").decode()
    with pytest.raises(HostKeyChanged) as caught:
        await connect(dataclasses.replace(ssh_target, host_key=rsa_line))
    assert caught.value.presented_key.startswith("ssh-ed25519 ")


async def test_it_fails_authentication_with_an_unauthorized_key(sshd_host):
    stranger_key, _public = generate_keypair()
    with pytest.raises(AuthFailed) as caught:
        await connect(target_for(sshd_host, stranger_key))
    assert caught.value.kind == "auth_failed"
    assert str(caught.value) == f"authentication failed for root@127.0.0.1:{sshd_host.port}"


async def test_it_reports_a_closed_port_as_unreachable_quickly(ssh_target):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    started = time.monotonic()
    with pytest.raises(Unreachable) as caught:
        await connect(dataclasses.replace(ssh_target, port=closed_port, connect_timeout=10))
    assert time.monotonic() - started < 2
    assert str(caught.value) == f"unreachable: 127.0.0.1:{closed_port} (connection refused)"


async def test_it_times_out_a_server_that_never_speaks_ssh(ssh_target):
    async def silent(reader, writer):
        await asyncio.sleep(30)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        with pytest.raises(ConnectTimeout) as caught:
            await connect(dataclasses.replace(ssh_target, port=port, login_timeout=0.5))
    assert caught.value.kind == "timeout"


@pytest.fixture
def ambient_credentials(tmp_path, monkeypatch, ssh_client_key):
    """The authorized key offered everywhere we must NOT look: ~/.ssh and an ssh-agent."""
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    key_file = home / ".ssh" / "id_ed25519"
    key_file.write_text(ssh_client_key[0])
    key_file.chmod(0o600)
    agent_socket = tmp_path / "agent.sock"
    agent = subprocess.Popen(["ssh-agent", "-D", "-a", str(agent_socket)], stdout=subprocess.PIPE)
    for _ in range(100):
        if agent_socket.exists():
            break
        time.sleep(0.05)
    env = {"SSH_AUTH_SOCK": str(agent_socket), "PATH": "/usr/bin:/bin"}
    subprocess.run(["ssh-add", "-q", str(key_file)], env=env, check=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("SSH_AUTH_SOCK", str(agent_socket))
    yield
    agent.terminate()
    agent.wait()


async def test_it_ignores_the_agent_and_home_directory_keys(sshd_host, ambient_credentials):
    stranger_key, _public = generate_keypair()
    with pytest.raises(AuthFailed):
        await connect(target_for(sshd_host, stranger_key))
