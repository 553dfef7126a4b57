"""Timeouts and cancellation kill the whole remote process group."""

from __future__ import annotations

import asyncio

import pytest

from servers.ssh import CommandTimeout
from tests.fixtures.sshd import eventually
from tests.fixtures.sshd import process_running as running

pytestmark = pytest.mark.ssh


async def test_it_kills_the_remote_command_on_timeout(ssh_connection):
    with pytest.raises(CommandTimeout) as caught:
        await ssh_connection.run(["sleep", "987.5"], timeout=0.5)
    assert caught.value.kind == "timeout"
    assert not running("^sleep 987.5$")


async def test_it_kills_background_children_of_the_command_too(ssh_connection):
    script = "sleep 987.25 & sleep 987.25 & wait"
    with pytest.raises(CommandTimeout):
        await ssh_connection.run(["sh", "-c", script], timeout=0.5)
    assert not running("^sleep 987.25$")


async def test_it_kills_the_remote_command_when_cancelled(ssh_connection):
    started = asyncio.Event()
    run = asyncio.create_task(
        ssh_connection.run(
            ["sh", "-c", "echo started; exec sleep 987.75"], on_line=lambda line: started.set()
        )
    )
    await asyncio.wait_for(started.wait(), timeout=5)
    assert await eventually(lambda: running("^sleep 987.75$"))
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    assert not running("^sleep 987.75$")


async def test_it_keeps_the_connection_usable_after_a_timeout(ssh_connection):
    with pytest.raises(CommandTimeout):
        await ssh_connection.run(["sleep", "987.125"], timeout=0.2)
    result = await ssh_connection.run(["true"])
    assert result.exit_status == 0


async def test_it_kills_a_command_that_ignores_sigterm(ssh_connection):
    script = "trap '' TERM; sleep 987.375 & wait; wait"
    with pytest.raises(CommandTimeout):
        await ssh_connection.run(["sh", "-c", script], timeout=0.3)
    assert not running("987.375")


async def test_it_kills_the_command_when_the_line_callback_fails(ssh_connection):
    def failing_sink(line):
        raise RuntimeError("database is down")

    with pytest.raises(RuntimeError):
        await ssh_connection.run(["sh", "-c", "echo hi; exec sleep 987.625"], on_line=failing_sink)
    assert not running("^sleep 987.625$")


async def test_it_kills_a_command_cancelled_while_its_channel_was_opening(ssh_connection):
    run = asyncio.create_task(ssh_connection.run(["sleep", "987.875"]))
    await asyncio.sleep(0)  # let run() start opening the channel, then cancel at once
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    # The kill of a command whose start was cancelled happens in the background.
    assert await eventually(lambda: not running("^sleep 987.875$"))
