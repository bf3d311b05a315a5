"""`leadbot serve`, `scheduler`, `run`, `jobs` and `outbox`.

Placeholder until the Slack and delivery issues land: each says what is not configured
yet and exits cleanly.
"""

from __future__ import annotations

import argparse

from bot.config import Settings


def main(settings: Settings, args: argparse.Namespace) -> int:
    print(f"leadbot {args.cmd}: not available yet (arrives with the Slack and delivery work).")
    return 0
