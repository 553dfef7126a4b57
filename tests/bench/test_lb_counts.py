"""The lb-rolling bench reads who answered each request from the balancer's access log."""

from __future__ import annotations

from collections import Counter

from bench.lb_rolling import upstream_counts

# Lines in loadbalancers/nginx.py's log format; the third was retried on a second backend.
LOG = """\
127.0.1.1 [06/Dec/2026:14:00:00 +0000] "GET / HTTP/1.1" 200 900 host=_ upstream=10.0.0.11:80 \
upstream_status=200 request_time=0.004 upstream_time=0.004
127.0.2.1 [06/Dec/2026:14:00:00 +0000] "GET / HTTP/1.1" 200 900 host=_ upstream=10.0.0.12:80 \
upstream_status=200 request_time=0.004 upstream_time=0.004
127.0.3.1 [06/Dec/2026:14:00:00 +0000] "GET / HTTP/1.1" 200 900 host=_ \
upstream=10.0.0.11:80, 10.0.0.12:80 upstream_status=502, 200 request_time=0.01 upstream_time=0.005
"""


def test_it_counts_the_backend_that_answered_and_the_retried_requests(tmp_path):
    log = tmp_path / "access.log"
    log.write_text(LOG)
    counts, retried = upstream_counts(log)
    assert counts == Counter({"10.0.0.12:80": 2, "10.0.0.11:80": 1})
    assert retried == 1
