"""The REST facade (FastAPI), its SSE bridge to Prefect's events, the dashboard and the CLI.

The facade never runs a step: it validates, starts deployment runs, and streams their events.
"""
