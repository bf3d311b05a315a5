"""Superseded by storage.demo. Kept only for tests/bot/test_console.py, which imports
DEFAULT_USER_EMAIL from here; delete this file once that import reads storage.demo."""

from __future__ import annotations

from storage.demo import DEFAULT_USER_EMAIL

__all__ = ["DEFAULT_USER_EMAIL"]
