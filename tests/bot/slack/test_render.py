"""Reply -> Block Kit stays inside Slack's limits, whatever a handler answers."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.slack.render import (
    decode_value,
    encode_value,
    fallback_text,
    form_values,
    make_action_id,
    render_blocks,
    render_home,
    render_modal,
    split_action_id,
)
from domain.types import (
    Block,
    Button,
    Buttons,
    Context,
    Fields,
    Form,
    FormField,
    Header,
    Image,
    Reply,
    Table,
    Text,
)


def check_limits(blocks: list[dict[str, Any]], max_blocks: int) -> None:
    """Every Block Kit limit leadbot relies on."""
    assert 0 < len(blocks) <= max_blocks
    action_ids: list[str] = []
    for b in blocks:
        t = b["type"]
        if t == "header":
            assert b["text"]["type"] == "plain_text"
            assert 0 < len(b["text"]["text"].strip()) <= 150
        elif t == "section":
            if "text" in b:
                assert 0 < len(b["text"]["text"].strip()) <= 3000
            if "fields" in b:
                assert 0 < len(b["fields"]) <= 10
                assert all(0 < len(f["text"]) <= 2000 for f in b["fields"])
        elif t == "actions":
            assert 0 < len(b["elements"]) <= 25
            for el in b["elements"]:
                assert 0 < len(el["text"]["text"]) <= 75
                assert len(el["value"]) <= 2000
                assert 0 < len(el["action_id"]) <= 255
                action_ids.append(el["action_id"])
        elif t == "context":
            assert 0 < len(b["elements"]) <= 10
            assert all(0 < len(e["text"]) <= 3000 for e in b["elements"])
        elif t == "image":
            assert len(b["image_url"]) <= 3000
            assert 0 < len(b["alt_text"]) <= 2000
        else:
            raise AssertionError(f"unexpected block type {t}")
    assert len(action_ids) == len(set(action_ids)), "action ids must be unique per message"


def test_text_passes_mrkdwn_and_escapes_control_characters() -> None:
    reply = Reply(blocks=[Text("*AHT* is _up_ & <300s> `code`")])
    [block] = render_blocks(reply)
    assert block == {
        "type": "section",
        "text": {"type": "mrkdwn", "text": "*AHT* is _up_ &amp; &lt;300s&gt; `code`"},
    }
    assert fallback_text(reply) == "*AHT* is _up_ &amp; &lt;300s&gt; `code`"


def test_header_is_plain_text_and_clipped() -> None:
    [block] = render_blocks(Reply(blocks=[Header("H" * 400)]))
    assert block["text"]["type"] == "plain_text"
    assert len(block["text"]["text"]) == 150
    assert block["text"]["text"].endswith("…")


def test_long_text_is_split_into_sections_at_line_breaks() -> None:
    lines = [f"line {i} " + "x" * 60 for i in range(200)]
    blocks = render_blocks(Reply(blocks=[Text("\n".join(lines))]))
    check_limits(blocks, 50)
    assert len(blocks) > 1
    joined = "\n".join(b["text"]["text"] for b in blocks)
    assert joined == "\n".join(lines)


def test_a_code_block_split_over_sections_stays_a_code_block() -> None:
    code = "\n".join(f"row {i:04d} " + "." * 50 for i in range(150))
    blocks = render_blocks(Reply(blocks=[Text("Usage:\n```\n" + code + "\n```\nThe end.")]))
    check_limits(blocks, 50)
    assert len(blocks) >= 3
    texts = [b["text"]["text"] for b in blocks]
    assert all(t.count("```") % 2 == 0 for t in texts)
    assert texts[0].startswith("Usage:\n```")
    assert texts[1].startswith("```\n")
    assert texts[-1].endswith("```\nThe end.")


def test_table_is_a_monospace_code_block_aligned() -> None:
    table = Table(("agent", "AHT"), (("Ana", "312"), ("Bob Jones", "98")), ("l", "r"))
    [block] = render_blocks(Reply(blocks=[table]))
    text = block["text"]["text"]
    assert text == "```\nagent      AHT\n---------  ---\nAna        312\nBob Jones   98\n```"


def test_table_without_headings_has_no_heading_line() -> None:
    table = Table(("", ""), (("email", "a@b.c"), ("role", "lead")))
    [block] = render_blocks(Reply(blocks=[table]))
    assert block["text"]["text"] == "```\nemail  a@b.c\nrole   lead\n```"


def test_long_table_is_paginated_then_truncated_with_a_note() -> None:
    rows = tuple((f"Agent {i:04d}", f"{i * 7 % 500}", "x" * 30) for i in range(2000))
    blocks = render_blocks(Reply(blocks=[Header("Stats"), Table(("a", "b", "c"), rows)]))
    check_limits(blocks, 50)
    sections = [b for b in blocks if b["type"] == "section"]
    assert len(sections) > 1
    assert all(s["text"]["text"].startswith("```\n") for s in sections)
    assert all(s["text"]["text"].endswith("\n```") for s in sections)
    note = blocks[-1]
    assert note["type"] == "context"
    assert "of 2000 rows" in note["elements"][0]["text"]
    shown = sum(s["text"]["text"].count("Agent ") for s in sections)
    assert f"Showing the first {shown} of 2000 rows" in note["elements"][0]["text"]


def test_empty_table_says_so() -> None:
    [block] = render_blocks(Reply(blocks=[Table(("a",), ())]))
    assert "(no rows)" in block["text"]["text"]


def test_many_fields_are_spread_over_sections_of_ten() -> None:
    pairs = tuple((f"k{i}", "v" * 3000) for i in range(23))
    blocks = render_blocks(Reply(blocks=[Fields(pairs)]))
    assert [len(b["fields"]) for b in blocks] == [10, 10, 3]
    check_limits(blocks, 50)
    assert blocks[0]["fields"][0]["text"].startswith("*k0*\n")


def test_more_than_25_buttons_split_into_actions_blocks_with_unique_ids() -> None:
    buttons = tuple(Button(f"Answer {i}", "pulse.answer", str(i)) for i in range(30))
    blocks = render_blocks(Reply(blocks=[Buttons(buttons), Buttons(buttons[:3])]))
    assert [len(b["elements"]) for b in blocks] == [25, 5, 3]
    check_limits(blocks, 50)
    ids = [el["action_id"] for b in blocks for el in b["elements"]]
    assert {split_action_id(i) for i in ids} == {"pulse.answer"}


def test_button_style_label_clip_and_value() -> None:
    [block] = render_blocks(Reply(blocks=[Buttons((Button("L" * 100, "a.b", "v", "danger"),))]))
    [el] = block["elements"]
    assert el["style"] == "danger"
    assert len(el["text"]["text"]) == 75
    assert el["value"] == "v"
    assert el["action_id"] == "a.b~0"


def test_long_or_tilde_values_are_packed_and_decode_back() -> None:
    for value in ("~starts with tilde", "1234567890" * 300, "", "plain:42"):
        encoded = encode_value(Button("x", "a", value))
        assert encoded is not None
        assert len(encoded) <= 2000
        assert decode_value(encoded) == (value, None)


def test_value_that_cannot_fit_leaves_the_button_out() -> None:
    import os

    noise = os.urandom(3000).hex()  # incompressible
    assert encode_value(Button("x", "a", noise)) is None
    blocks = render_blocks(Reply(blocks=[Text("hi"), Buttons((Button("x", "a", noise),))]))
    assert [b["type"] for b in blocks] == ["section"]


def test_form_rides_in_the_button_value() -> None:
    form = Form(
        "Close action item with a long title",
        "action.close",
        "17",
        (FormField("note", "What changed?", multiline=True, placeholder="p", initial="i"),),
        submit_label="Close it",
    )
    encoded = encode_value(Button("Close", "action.open_close", "17", form=form))
    assert encoded is not None
    assert encoded.startswith("~f")
    assert decode_value(encoded) == ("17", form)


def test_forged_packed_values_raise_value_error() -> None:
    for bad in ("~fAAAA", "~z!!!", "~f" + "A" * 10):
        try:
            decode_value(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad} decoded")


def test_action_id_suffix_round_trip() -> None:
    assert split_action_id(make_action_id("kudos.give", 3)) == "kudos.give"
    assert split_action_id("kudos.give") == "kudos.give"
    assert split_action_id("odd~name") == "odd~name"
    long = make_action_id("a" * 300, 12)
    assert len(long) == 255
    assert long.endswith("~12")


def test_too_many_blocks_are_cut_with_a_note_and_views_allow_100() -> None:
    reply = Reply(blocks=[Text(f"para {i}") for i in range(120)])
    blocks = render_blocks(reply)
    assert len(blocks) == 50
    assert "71 more part(s) not shown" in blocks[-1]["elements"][0]["text"]
    home = render_home(reply)
    assert home["type"] == "home"
    assert len(home["blocks"]) == 100
    check_limits(home["blocks"], 100)


def test_fallback_text_is_never_empty() -> None:
    assert fallback_text(Reply()) == "leadbot"
    assert fallback_text(Reply(blocks=[Fields((("CSAT", "91%"),))])) == "CSAT: 91%"
    assert fallback_text(Reply(blocks=[Table(("a",), (("x",),))])) == "x"
    assert fallback_text(Reply(text="t" * 5000)).endswith("…")
    assert render_blocks(Reply(text="only text")) == [
        {"type": "section", "text": {"type": "mrkdwn", "text": "only text"}}
    ]


def test_modal_respects_limits_and_carries_metadata() -> None:
    form = Form(
        "A title that is much too long for Slack",
        "x.y",
        "1",
        (
            FormField("comment", "Comment", multiline=True, max_length=9000, initial="i" * 9000),
            FormField("score", "Score", optional=False, placeholder="p" * 500),
        ),
        submit_label="Send my answer now please",
    )
    view = render_modal(form, private_metadata='{"a":"x.y"}')
    assert view["type"] == "modal"
    assert len(view["title"]["text"]) == 24
    assert len(view["submit"]["text"]) == 24
    assert view["private_metadata"] == '{"a":"x.y"}'
    comment, score = view["blocks"]
    assert comment["element"]["max_length"] == 3000
    assert len(comment["element"]["initial_value"]) == 3000
    assert comment["optional"] is True
    assert score["optional"] is False
    assert len(score["element"]["placeholder"]["text"]) == 150
    assert json.dumps(view)


def test_form_values_reads_view_state() -> None:
    state = {
        "comment": {"comment": {"type": "plain_text_input", "value": "hello"}},
        "score": {"score": {"type": "plain_text_input", "value": None}},
    }
    assert form_values(state) == {"comment": "hello", "score": ""}


def test_image_block() -> None:
    [b] = render_blocks(Reply(blocks=[Image("https://x/y.png", "")]))
    assert b == {"type": "image", "image_url": "https://x/y.png", "alt_text": "image"}


def test_blank_text_never_reaches_slack() -> None:
    reply = Reply(blocks=[Header(" "), Text(""), Context("  "), Buttons((Button("", "a"),))])
    [actions] = render_blocks(reply)
    assert actions["elements"][0]["text"]["text"] == "-"


_text = st.text(min_size=0, max_size=4000)
_short = st.text(min_size=0, max_size=200)
_button = st.builds(
    Button,
    label=_short,
    action_id=st.text(alphabet="abc._~0123456789", min_size=1, max_size=300),
    value=st.text(max_size=2500),
)
_block: st.SearchStrategy[Block] = st.one_of(
    st.builds(Header, _short),
    st.builds(Text, _text),
    st.builds(Context, _text),
    st.builds(Fields, st.lists(st.tuples(_short, _text), max_size=25).map(tuple)),
    st.builds(
        Table,
        st.just(("name", "value")),
        st.lists(st.tuples(_short, _short), max_size=300).map(tuple),
    ),
    st.builds(Buttons, st.lists(_button, min_size=1, max_size=40).map(tuple)),
    st.builds(Image, st.just("https://example.com/a.png"), _short),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_block, max_size=60), st.sampled_from([50, 100]))
def test_any_reply_renders_within_limits(blocks: list[Block], limit: int) -> None:
    reply = Reply(blocks=blocks)
    rendered = render_blocks(reply, limit=limit)
    if rendered:
        check_limits(rendered, limit)
    assert fallback_text(reply)
    for b in rendered:
        if b["type"] == "actions":
            for el in b["elements"]:
                _value, form = decode_value(el["value"])
                assert form is None
