"""`leadbot teams package`: placeholder until the Teams issue lands."""

from __future__ import annotations

import argparse

from bot.config import Settings


def main(settings: Settings, args: argparse.Namespace) -> int:
    print("leadbot teams package: not available yet (arrives with the Teams work).")
    return 0
