"""ANSI SGR colours → CSS classes; everything else escaped or dropped."""

from __future__ import annotations

from django.template import Context, Template

from deployments.ansi import Segment, ansi_segments, ansi_to_html, strip_ansi


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

