"""Live queue sources: pollers for Genesys Cloud, Amazon Connect and Twilio Flex, and
the signed push endpoint (`POST /kpi/live`) for any other ACD.

`build_sources(settings)` builds a poller per configured platform (domain.live.LiveSource);
the bootstrap hands them to the live job (jobs/alerts.py).
"""
