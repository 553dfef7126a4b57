"""ANSI SGR colours → CSS classes; everything else escaped or dropped."""

from __future__ import annotations

import pytest
from django.template import Context, Template

from deployments.ansi import Segment, ansi_segments, ansi_to_html, frame_segments, strip_ansi

# Lines the live log's frames carry; the page only turns their segments into spans.
FRAME_SAMPLES = [
    "plain",
    "",
    "\x1b[1;31mERROR\x1b[0m done",
    "\x1b[92mok\x1b[39m plain \x1b[1mbold\x1b[22m thin",
    "\x1b[33my\x1b[mn\x1b[;32mg",
    "\x1b[2K\x1b[1Gprogress \x1b]0;title\x07100% \x1b[38;5;208mx",
    "<script>alert(1)</script>\x1b[31m<img src=x>",
]


def test_it_turns_colours_and_bold_into_classes():
    segments = ansi_segments("\x1b[1;31mERROR\x1b[0m done")
    assert segments == [Segment(("ansi-bold", "ansi-red"), "ERROR"), Segment((), " done")]


def test_it_knows_bright_colours_and_the_default_colour():
    segments = ansi_segments("\x1b[92mok\x1b[39m plain")
    assert segments == [Segment(("ansi-bright-green",), "ok"), Segment((), " plain")]


def test_it_treats_an_empty_sgr_as_reset():
    assert ansi_segments("\x1b[33my\x1b[mn") == [Segment(("ansi-yellow",), "y"), Segment((), "n")]


def test_it_drops_other_escape_sequences():
    assert strip_ansi("\x1b[2K\x1b[1Gprogress \x1b]0;title\x07100%") == "progress 100%"


def test_it_escapes_script_text_inside_and_outside_colours():
    html = ansi_to_html("<script>alert(1)</script>\x1b[31m<img src=x onerror=alert(2)>")
    assert "<script>" not in html and "<img" not in html
    assert html.endswith('<span class="ansi-red">&lt;img src=x onerror=alert(2)&gt;</span>')


def test_it_renders_stored_lines_safely_through_the_template_filter():
    template = Template("{% load live %}{{ text|ansi }}")
    html = template.render(Context({"text": "\x1b[1m<b>bold</b>"}))
    assert html == '<span class="ansi-bold">&lt;b&gt;bold&lt;/b&gt;</span>'


@pytest.mark.parametrize("text", FRAME_SAMPLES)
def test_frames_carry_the_segments_of_the_one_parser(text):
    expected = [[" ".join(segment.classes), segment.text] for segment in ansi_segments(text)]

    assert frame_segments(text) == expected
    assert "".join(part for _, part in frame_segments(text)) == strip_ansi(text)
