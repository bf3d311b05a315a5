"""`leadbot demo live`: the scripted feed shows one incident open, update, escalate and
resolve in the console."""

from __future__ import annotations

import io
from pathlib import Path

from bot.bootstrap import bootstrap
from bot.live import demo
from tests.conftest import make_settings


async def test_demo_live_shows_an_incident_from_open_to_resolved(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"
    app = bootstrap(make_settings(database_url=url), jobs=())
    out = io.StringIO()
    try:
        assert await demo.run(app, pause=0, out=out) == 0
    finally:
        await app.db.dispose()
    text = out.getvalue()
    opened = text.index("🟠 Warning: Billing voice")
    worse = text.index("🔴 Critical: Billing voice")
    taken = text.index("is on it.")
    escalated = text.index("→ DM to")
    resolved = text.index("✅ Resolved: Billing voice")
    assert opened < worse < taken < escalated < resolved
    assert text.count("→ #Billing channel\n") == 1  # one post; everything else edits it
    assert "(updates an earlier message)" in text
    assert "1 alert(s) in the last 1 day(s)" in text
