"""A big stored log: the page shows the newest lines, "Show earlier" pages back by seq."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from deployments.views.log import EARLIER_PAGE, LOG_LINES_ON_PAGE
from tests.fixtures.live import make_deployment, store_many

BIG = 100_000


def url(name: str, deployment, org: str = "acme") -> str:
    return reverse(f"deployments:{name}", kwargs={"org": org, "pk": deployment.pk})


@pytest.fixture
def long_log(cast):
    deployment = make_deployment(cast.org)
    store_many(deployment, LOG_LINES_ON_PAGE * 3)
    return deployment


def test_it_renders_only_the_newest_lines_on_the_page(client_for, cast, long_log):
    page = client_for(cast.viewer).get(url("detail", long_log)).content.decode()
    seqs = [int(seq) for seq in re.findall(r'<span class="ln[^"]*" data-seq="(\d+)"', page)]
    total = LOG_LINES_ON_PAGE * 3
    assert seqs == list(range(total - LOG_LINES_ON_PAGE + 1, total + 1))
    assert f'data-first-seq="{total - LOG_LINES_ON_PAGE + 1}"' in page
    assert 'data-log-earlier="' in page and "Show earlier lines</button>" in page


def test_it_pages_back_through_a_big_log_once_each_in_order(client_for, cast):
    deployment = make_deployment(cast.org)
    store_many(deployment, BIG)
    client, seqs, before, more = client_for(cast.viewer), [], BIG + 1, True
    while more:
        page = client.get(url("log-earlier", deployment), {"before": before}).json()
        assert 0 < len(page["lines"]) <= EARLIER_PAGE
        seqs[:0] = [line["seq"] for line in page["lines"]]
        before, more = page["lines"][0]["seq"], page["more"]
    assert seqs == list(range(1, BIG + 1))


def test_it_sends_earlier_lines_as_coloured_segments(client_for, cast):
    from tests.fixtures.live import store_lines

    deployment = make_deployment(cast.org)
    store_lines(deployment, ["\x1b[32mok\x1b[0m", "next"])
    page = client_for(cast.viewer).get(url("log-earlier", deployment), {"before": 2}).json()
    assert page == {"more": False, "lines": [{
        "seq": 1, "server": "web1", "stream": "out", "segments": [["ansi-green", "ok"]],
        "ts": page["lines"][0]["ts"]}]}


@pytest.mark.parametrize("before", ["", "0", "-1", "x", "99999999999", "2147483648"])
def test_it_refuses_a_bad_line_number_clearly(client_for, cast, long_log, before):
    response = client_for(cast.viewer).get(url("log-earlier", long_log), {"before": before})
    assert response.status_code == 400
    assert response.json() == {"error": "before must be a line number from 1 to 2147483647."}


@pytest.mark.parametrize("who,status", [("outsider", 404), ("anonymous", 302), ("viewer", 200)])
def test_it_shows_earlier_lines_to_members_only(client_for, cast, long_log, who, status):
    response = client_for(cast.user(who)).get(url("log-earlier", long_log), {"before": 5})
    assert response.status_code == status


def test_it_hides_another_organizations_earlier_lines(client_for, cast):
    theirs = make_deployment(cast.other_org)
    store_many(theirs, 10)
    response = client_for(cast.owner).get(url("log-earlier", theirs, org="acme"), {"before": 5})
    assert response.status_code == 404


def test_it_escapes_stored_lines_and_server_names_on_the_page(client_for, cast):
    from tests.fixtures.live import store_lines

    deployment = make_deployment(cast.org)
    store_lines(deployment, ["<img src=x onerror=alert(1)>", "\x1b[31m<b>red</b>\x1b[0m"],
                server='web"<1>')
    page = client_for(cast.viewer).get(url("detail", deployment)).content.decode()
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and "<img src=x" not in page
    assert '<span class="ansi-red">&lt;b&gt;red&lt;/b&gt;</span>' in page
    assert '<span class="srv">web&quot;&lt;1&gt;</span>' in page
