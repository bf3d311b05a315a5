"""Microsoft Teams, through the Microsoft 365 Agents SDK (the only package that imports it).

- cards: a Reply as an Adaptive Card 1.5
- refs: conversation references (stored as JSON on Person / Team)
- agent: the turn handler (messages -> commands, card actions -> actions, installs)
- routes / web: POST /api/messages on the shared aiohttp server (JWT checked by the SDK)
- sender: the outbox dispatcher's Teams sender (proactive messages, rate limits)
- manifest: the Teams app manifest and icons
"""
