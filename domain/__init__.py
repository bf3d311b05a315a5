"""The domain layer: what every other layer shares, with no I/O.

Neutral types (Command, Action, Reply), user errors, roles and their rules, local time
and shift patterns, dates and periods, KPI arithmetic, formatting and the settings class.
Nothing here touches the database, the network or a chat platform; storage/, handlers/,
jobs/ and bot/ all build on it (docs/architecture.md has the layer graph).
"""
