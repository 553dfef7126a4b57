"""The load generator against a real nginx + php-fpm stack: it counts and checks every answer."""

from __future__ import annotations

import asyncio

import pytest

from bench.load import LoadGenerator
from testbed.web import SiteRoot
from tests.fixtures.web import make_release, switch_current

pytestmark = pytest.mark.web
RELEASE = "20260101000001"


async def _load_for(port: int, seconds: float) -> LoadGenerator:
    async with LoadGenerator("127.0.0.1", port, connections=4) as load:
        await asyncio.sleep(seconds)
    return load


async def test_it_records_which_release_answered_every_request(tmp_path, web_stack_factory):
    deploy_path = tmp_path / "site"
    make_release(deploy_path, RELEASE, "demo")
    switch_current(deploy_path, RELEASE)
    stack = web_stack_factory([SiteRoot(deploy_path)])
    load = await _load_for(stack.http_port, 1.0)
    assert load.stats.total > 0
    assert dict(load.stats.releases) == {RELEASE: load.stats.total}


async def test_it_counts_error_answers_as_non_2xx(tmp_path, web_stack_factory):
    stack = web_stack_factory([SiteRoot(tmp_path / "nothing-deployed")])
    load = await _load_for(stack.http_port, 0.5)
    assert load.stats.total > 0
    assert load.stats.non_2xx == load.stats.total
