"""Replies as terminal text: headers, markup, fields, aligned tables, numbered buttons."""

from __future__ import annotations

from bot.render_text import BOLD, RESET, inline, render, render_table, render_text
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
    Visibility,
)


def test_header_is_underlined() -> None:
    out = render_text(Reply(blocks=[Header("Team stats")]))
    assert out.splitlines() == ["Team stats", "══════════"]


def test_bold_and_italic_markup_is_stripped_without_color() -> None:
    assert inline("AHT is *312 s* today, _above_ goal") == "AHT is 312 s today, above goal"


def test_bold_becomes_ansi_bold_with_color() -> None:
    assert inline("a *b* c", color=True) == f"a {BOLD}b{RESET} c"


def test_snake_case_and_lone_asterisks_are_left_alone() -> None:
    assert inline("qa_score and service_level") == "qa_score and service_level"
    assert inline("5 * 3 = 15") == "5 * 3 = 15"


def test_links_show_label_and_address() -> None:
    assert inline("see <https://x.test/a|the report>") == "see the report (https://x.test/a)"


def test_code_fence_is_indented() -> None:
    out = render_text(Reply(blocks=[Text("Usage:\n```\n/goal set aht <= 300\n```")]))
    assert out == "Usage:\n    /goal set aht <= 300"


def test_fields_align_their_labels() -> None:
    out = render_text(Reply(blocks=[Fields((("Owner", "Maria"), ("Due date", "Fri 21 Nov")))]))
    assert out.splitlines() == ["Owner:     Maria", "Due date:  Fri 21 Nov"]


def test_table_aligns_columns_and_right_aligns_numbers() -> None:
    table = Table(
        ("agent", "AHT", "CSAT"),
        (("Maria Lopez", "290", "95.0"), ("Tom", "1,020", "7.5")),
        ("l", "r", "r"),
    )
    lines = render_table(table).splitlines()
    assert lines[0] == "agent          AHT  CSAT"
    assert lines[1] == "───────────  ─────  ────"
    assert lines[2] == "Maria Lopez    290  95.0"
    assert lines[3] == "Tom          1,020   7.5"


def test_table_without_header_has_no_rule_and_short_rows_are_padded() -> None:
    lines = render_table(Table(("", ""), (("email", "a@b.c"), ("role",)))).splitlines()
    assert lines == ["email  a@b.c", "role"]


def test_buttons_are_numbered_and_forms_marked() -> None:
    form = Form("Add a note", "x.note", "1", (FormField("note", "Note"),))
    reply = Reply(
        blocks=[
            Buttons(
                (
                    Button("Accept", "x.ok", "1", "primary"),
                    Button("Note", "x.note", "1", None, form),
                )
            ),
            Text("then"),
            Buttons((Button("Decline", "x.no", "1", "danger"),)),
        ]
    )
    shown = render(reply, first_button=3)
    assert "[3] Accept   [4] Note…" in shown.text
    assert "[5] Decline" in shown.text
    assert [b.label for b in shown.buttons] == ["Accept", "Note", "Decline"]


def test_context_image_errors_and_visibility_notes() -> None:
    reply = Reply(
        blocks=[Context("Updated 09:00"), Image("https://x.test/c.png", "AHT chart")],
        visibility=Visibility.channel,
        replace_original=True,
        errors={"note": "too long"},
    )
    out = render_text(reply)
    assert "Updated 09:00" in out
    assert "[image: AHT chart] https://x.test/c.png" in out
    assert "! note: too long" in out
    assert "posted in the channel" in out
    assert "replaces the message" in out


def test_text_only_reply_uses_the_fallback() -> None:
    assert render_text(Reply(text="plain *words*")) == "plain words"
