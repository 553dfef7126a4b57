"""When the server goes away mid-command or between commands, and under many connections."""

from __future__ import annotations

import asyncio

import pytest

from servers.ssh import SSHError, connect
from tests.fixtures.sshd import target_for

pytestmark = pytest.mark.ssh


async def test_it_raises_when_the_server_dies_during_a_command(make_sshd_host, ssh_client_key):
    host = make_sshd_host()
    started = asyncio.Event()
    async with await connect(target_for(host, ssh_client_key[0])) as conn:
        argv = ["sh", "-c", "echo started; sleep 30"]
        run = asyncio.create_task(conn.run(argv, on_line=lambda line: started.set()))
        await asyncio.wait_for(started.wait(), timeout=5)
        host.stop()
        with pytest.raises(SSHError):
            await asyncio.wait_for(run, timeout=10)


async def test_it_raises_when_running_on_a_dropped_connection(make_sshd_host, ssh_client_key):
    host = make_sshd_host()
    async with await connect(target_for(host, ssh_client_key[0])) as conn:
        host.stop()
        await asyncio.sleep(0.2)
        with pytest.raises(SSHError):
            await conn.run(["true"])


async def test_it_serves_fifty_concurrent_connections(sshd_host, ssh_target):
    async def one_session(number):
        async with await connect(ssh_target) as conn:
            lines = []
            await conn.run(["echo", str(number)], on_line=lines.append)
            return lines[0].text

    results = await asyncio.gather(*(one_session(n) for n in range(50)))
    assert results == [str(n) for n in range(50)]
