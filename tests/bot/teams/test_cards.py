"""A Reply as an Adaptive Card 1.5: every block type, buttons as Action.Execute with an
Action.Submit fallback, forms as inputs, errors on the card, a plain-text fallback."""

from __future__ import annotations

import json
from typing import Any

from bot.teams.cards import (
    ACTION_KEY,
    CARD_BUDGET,
    FORM_KEY,
    PAGE_ACTION,
    PAGE_KEY,
    VALUE_KEY,
    Pager,
    form_from_json,
    markdown,
    render_card,
    render_pages,
)
from domain.types import (
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

FORM = Form(
    title="Add a note",
    action_id="oneonone.note",
    value="42",
    fields=(
        FormField("note", "Note", multiline=True, optional=False, max_length=300),
        FormField("due", "Due date", placeholder="YYYY-MM-DD", initial="2026-12-01"),
    ),
    submit_label="Save note",
)


def by_type(card: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [b for b in card["body"] if b["type"] == kind]


def test_card_envelope_and_fallback_text() -> None:
    card = render_card(Reply(blocks=[Header("Team stats")], text="*Billing*: CSAT 91%"))
    assert card["type"] == "AdaptiveCard"
    assert card["version"] == "1.5"
    assert card["$schema"].startswith("http://adaptivecards.io/schemas/")
    assert card["fallbackText"] == "Billing: CSAT 91%"
    header = card["body"][0]
    assert header == {
        "type": "TextBlock",
        "text": "Team stats",
        "wrap": True,
        "size": "Large",
        "weight": "Bolder",
    }


def test_markdown_conversion() -> None:
    assert markdown("*bold* and _italic_") == "**bold** and _italic_"
    assert markdown("see <https://x.test/a|the report>") == "see [the report](https://x.test/a)"
    assert markdown("type `/stats week`") == "type /stats week"
    assert markdown("line one\nline two") == "line one\n\nline two"
    assert markdown("a\n\nb\nc") == "a\n\nb\n\nc"
    assert markdown("2*3*4 stays") == "2*3*4 stays"


def test_text_with_a_code_fence_becomes_a_monospace_block() -> None:
    card = render_card(Reply(blocks=[Text("Usage:\n```\n/goal set aht < 300\n/goal list\n```")]))
    blocks = by_type(card, "TextBlock")
    assert blocks[0]["text"] == "Usage:"
    assert blocks[1]["fontType"] == "Monospace"
    assert blocks[1]["text"] == "/goal set aht < 300\n\n/goal list"


def test_fields_table_context_and_image() -> None:
    reply = Reply(
        blocks=[
            Fields((("CSAT", "*91%*"), ("AHT", "312 s"))),
            Table(("agent", "AHT"), (("Maria", "290"), ("Tom",)), ("l", "r")),
            Context("Updated 09:00"),
            Image("https://x.test/chart.png", "AHT chart"),
        ]
    )
    card = render_card(reply)
    [facts] = by_type(card, "FactSet")
    assert facts["facts"] == [
        {"title": "CSAT", "value": "**91%**"},
        {"title": "AHT", "value": "312 s"},
    ]
    [table] = by_type(card, "Table")
    assert table["firstRowAsHeader"] is True
    assert len(table["columns"]) == 2
    rows = table["rows"]
    assert [c["items"][0]["text"] for c in rows[0]["cells"]] == ["agent", "AHT"]
    # Alignment is the column's, once, not every cell's.
    assert table["columns"] == [
        {"width": 1},
        {"width": 1, "horizontalCellContentAlignment": "Right"},
    ]
    assert all("horizontalAlignment" not in c["items"][0] for r in rows for c in r["cells"])
    # A short row is padded so every row has every column.
    assert len(rows[2]["cells"]) == 2
    # No ColumnSet copy as a fallback: the card requires 1.5, which has tables.
    assert "fallback" not in table
    assert "ColumnSet" not in json.dumps(card)
    [ctx] = [b for b in by_type(card, "TextBlock") if b.get("isSubtle")]
    assert ctx["text"] == "Updated 09:00"
    assert ctx["size"] == "Small"
    [img] = by_type(card, "Image")
    assert img == {"type": "Image", "url": "https://x.test/chart.png", "altText": "AHT chart"}


def test_buttons_are_action_execute_with_a_submit_fallback() -> None:
    reply = Reply(
        blocks=[
            Buttons(
                (
                    Button("Done", "action.done", "17", style="primary"),
                    Button("Cancel", "action.cancel", "17", style="danger"),
                    Button("Later", "action.snooze", "17"),
                )
            )
        ]
    )
    [actions] = by_type(render_card(reply), "ActionSet")
    done, cancel, later = actions["actions"]
    assert done["type"] == "Action.Execute"
    assert done["verb"] == "action.done"
    assert done["data"] == {ACTION_KEY: "action.done", VALUE_KEY: "17"}
    assert done["style"] == "positive"
    assert cancel["style"] == "destructive"
    assert "style" not in later
    assert done["fallback"] == {
        "type": "Action.Submit",
        "title": "Done",
        "data": {ACTION_KEY: "action.done", VALUE_KEY: "17"},
    }


def test_a_button_with_a_form_shows_the_inputs_in_the_card() -> None:
    reply = Reply(blocks=[Buttons((Button("Add note", "oneonone.note", "42", form=FORM),))])
    [actions] = by_type(render_card(reply), "ActionSet")
    [show] = actions["actions"]
    assert show["type"] == "Action.ShowCard"
    inputs = [b for b in show["card"]["body"] if b["type"] == "Input.Text"]
    assert [i["id"] for i in inputs] == ["f_note", "f_due"]
    assert inputs[0]["isMultiline"] is True
    assert inputs[0]["isRequired"] is True
    assert inputs[0]["maxLength"] == 300
    assert inputs[1]["value"] == "2026-12-01"
    assert inputs[1]["placeholder"] == "YYYY-MM-DD"
    [submit] = show["card"]["actions"]
    assert submit["type"] == "Action.Execute"
    assert submit["title"] == "Save note"
    assert submit["data"][ACTION_KEY] == "oneonone.note"
    assert submit["data"][VALUE_KEY] == "42"
    assert form_from_json(submit["data"][FORM_KEY]) == FORM


def test_errors_are_shown_on_the_form_with_what_was_typed() -> None:
    reply = Reply(errors={"note": "A note can't be empty."}, text="Fix the note", ok=False)
    card = render_card(reply, form=FORM, values={"note": "", "due": "tomorrow"})
    texts = [b["text"] for b in by_type(card, "TextBlock")]
    assert "A note can't be empty." in texts
    due = next(b for b in by_type(card, "Input.Text") if b["id"] == "f_due")
    assert due["value"] == "tomorrow"
    assert card["actions"][0]["type"] == "Action.Execute"


def test_errors_without_a_form_are_listed() -> None:
    card = render_card(Reply(errors={"comment": "Too long"}, text="No", ok=False))
    assert card["body"][0]["color"] == "Attention"
    assert "comment: Too long" in card["body"][0]["text"]


def test_reply_form_opens_as_card_inputs() -> None:
    card = render_card(Reply(form=FORM, text="Add a note"))
    assert [b["id"] for b in by_type(card, "Input.Text")] == ["f_note", "f_due"]
    assert card["actions"][0]["data"][ACTION_KEY] == "oneonone.note"


def test_form_from_json_rejects_garbage() -> None:
    assert form_from_json("not json") is None
    assert form_from_json('{"title": 1}') is None


LIMIT = 28 * 1024


def _rows_of(pages: list[dict[str, Any]]) -> list[list[str]]:
    out: list[list[str]] = []
    for card in pages:
        for element in card["body"]:
            if element["type"] == "Table":
                assert element["firstRowAsHeader"] is True
                assert [c["items"][0]["text"] for c in element["rows"][0]["cells"]] == [
                    "#",
                    "agent",
                    "note",
                ]
                out.extend([c["items"][0]["text"] for c in r["cells"]] for r in element["rows"][1:])
    return out


def _nav(card: dict[str, Any]) -> dict[str, int]:
    return {
        a["title"].split()[0]: a["data"][PAGE_KEY]
        for e in card["body"]
        if e["type"] == "ActionSet"
        for a in e["actions"]
        if a["data"].get(ACTION_KEY) == PAGE_ACTION
    }


def test_a_long_table_pages_with_its_header_and_every_row_once() -> None:
    rows = tuple((str(i), f"Agent {i} Ó'Súilleabháin", "ünïcödé ✓ " * 8) for i in range(400))
    reply = Reply(
        blocks=[Header("All agents"), Text("Intro"), Table(("#", "agent", "note"), rows)],
        text="All agents",
    )
    pager = Pager({"line": "stats aht week"})
    pages = render_pages(reply, pager=pager)
    assert len(pages) > 3
    for n, card in enumerate(pages, start=1):
        # Measured as sent: non-ASCII as \u escapes.
        assert len(json.dumps(card)) < CARD_BUDGET < LIMIT
        assert card["body"][0]["text"] == "All agents"
        assert render_card(reply, page=n, pager=pager) == card  # breaks don't move
        nav = _nav(card)
        assert nav.get("More") == (n + 1 if n < len(pages) else None)
        assert nav.get("Previous") == (n - 1 if n > 1 else None)
        more = next(
            (a for e in card["body"] if e["type"] == "ActionSet" for a in e["actions"]), None
        )
        assert more is not None
        assert more["data"]["line"] == "stats aht week"
    assert _rows_of(pages) == [[r[0], r[1], markdown(r[2])] for r in rows]
    # Past the last page: the last.
    assert render_card(reply, page=99, pager=pager) == pages[-1]
    # Without a way to page, the first page says the rest did not fit.
    alone = render_card(reply)
    assert alone == render_pages(reply)[0]
    assert "did not fit" in json.dumps(alone)
    assert _nav(alone) == {}


def test_unbounded_text_is_cut_to_bounds() -> None:
    huge = "x" * 200_000
    reply = Reply(
        blocks=[
            Header("H" * 10_000),
            Text("\n".join(f"line {i} " + "é" * 300 for i in range(2000))),
            Fields((("big", huge),)),
            Table(("a", "b"), ((huge, "é" * 50_000),)),
            Context(huge),
        ],
        text=huge,
        errors={"": huge},
        ok=False,
    )
    pages = render_pages(reply, pager=Pager({"line": "x"}))
    assert len(pages) > 1
    for card in pages:
        assert len(json.dumps(card)) < CARD_BUDGET
    assert len(json.dumps(pages[0]["fallbackText"])) <= 1024
    # The long text is all there, in order, across the pages (only the monster cells cut).
    text = "\n".join(
        e["text"] for card in pages for e in card["body"] if e.get("text", "").startswith("line ")
    )
    assert [ln.split()[1] for ln in text.split("\n") if ln] == [str(i) for i in range(2000)]


def test_a_pager_too_big_to_carry_is_dropped() -> None:
    rows = tuple((str(i), "x" * 200) for i in range(400))
    reply = Reply(blocks=[Table(("a", "b"), rows)])
    pages = render_pages(reply, pager=Pager({"line": "y" * 5000}))
    assert all(_nav(p) == {} for p in pages)
    assert "did not fit" in json.dumps(pages[0])
    assert render_card(reply, page=2, pager=Pager({"line": "y" * 5000})) == pages[0]


def test_short_replies_are_one_card_without_paging() -> None:
    reply = Reply(blocks=[Table(("a", "b"), (("1", "2"),))], text="t")
    [card] = render_pages(reply, pager=Pager({"line": "x"}))
    assert _nav(card) == {}
    assert "Page" not in json.dumps(card)
