"""livelog.js colours live lines exactly as deployments/ansi.py renders stored ones."""

from __future__ import annotations

import pytest

from deployments.ansi import ansi_segments
from tests.browser.test_live_log import open_live_log
from tests.fixtures.live import make_deployment

pytestmark = [pytest.mark.browser, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

SAMPLES = [
    "plain",
    "\x1b[1;31mERROR\x1b[0m done",
    "\x1b[92mok\x1b[39m plain \x1b[1mbold\x1b[22m thin",
    "\x1b[33my\x1b[mn\x1b[;32mg",
    "\x1b[2K\x1b[1Gprogress \x1b]0;title\x07100% \x1b[38;5;208mx",
    "<script>alert(1)</script>\x1b[31m<img src=x>",
]


def test_it_splits_colours_like_the_server_does(browser, cast):
    open_live_log(browser, cast.viewer, make_deployment(cast.org))
    script = "return arguments[0].map(window.DeploynixLive.ansiSegments);"
    in_browser = browser.driver.execute_script(script, SAMPLES)
    on_server = [[[list(s.classes), s.text] for s in ansi_segments(text)] for text in SAMPLES]
    assert in_browser == on_server
