"""The review page and the service's HTTP endpoints (Starlette, server-rendered)."""
