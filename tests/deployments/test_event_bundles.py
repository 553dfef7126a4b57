"""events.bundle: what the sink's sender puts in each channel-layer message (pure)."""

from __future__ import annotations

from deployments.events import BUNDLE_LINES, StepStatusEvent, bundle, log_batch_event


def _batch(first: int, count: int) -> dict:
    return log_batch_event(7, [(seq, "web1", "out", f"line {seq}", 1.0)
                               for seq in range(first, first + count)])


def _status(step: str, status: str) -> dict:
    return StepStatusEvent(type="step.status", deployment_id=7, step=step, server="web1",
                           status=status, exit_code=None, duration="", last_seq=0)


def test_one_event_goes_as_it_is():
    assert bundle(7, [_status("install", "running")]) == [_status("install", "running")]


def test_consecutive_batches_join_and_everything_goes_in_one_message_in_order():
    queued = [_status("install", "running"), _batch(1, 2), _batch(3, 2),
              _status("install", "succeeded")]
    [message] = bundle(7, queued)
    assert (message["type"], message["deployment_id"]) == ("deployment.events", 7)
    running, batch, finished = message["events"]
    assert (running, finished) == (queued[0], queued[3])
    assert (batch["first_seq"], len(batch["lines"])) == (1, 4)


def test_batches_with_a_gap_between_them_stay_apart():
    [message] = bundle(7, [_batch(1, 2), _batch(5, 2)])
    assert [event["first_seq"] for event in message["events"]] == [1, 5]


def test_a_message_holds_at_most_bundle_lines_lines():
    half = BUNDLE_LINES // 2 + 1
    queued = [_batch(1, half), _status("build", "running"), _batch(1 + half, half)]
    messages = bundle(7, queued)
    assert len(messages) == 2
    assert [len(m["lines"]) if m["type"] == "log.batch" else
            sum(len(e.get("lines", ())) for e in m["events"]) for m in messages] == [half, half]
