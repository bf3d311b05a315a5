"""Microsoft Teams, through the Microsoft 365 Agents SDK (the only package that imports it).

- cards: a Reply as an Adaptive Card 1.5
- refs: conversation references (stored as JSON on Person / Team)
- agent: the turn handler (messages -> commands, card actions -> actions, installs)
- routes / web: POST /api/messages on the shared aiohttp server (JWT checked by the SDK)
- auth / trust: token issuers and tenants, allowed service hosts, the activity bound to
  its token; one outbound token request at a time
- connector: the Bot Connector clients a turn replies through (allowed hosts only)
- paging: what a long card's More button carries back
- sender: the outbox dispatcher's Teams sender (proactive messages, rate limits)
- manifest: the Teams app manifest and icons
"""
