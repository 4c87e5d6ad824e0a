"""Django's database sessions, refusing a session cookie that no server could have made.

Session keys are lowercase letters and digits. A cookie with anything else (a NUL byte from a probe, say)
is treated as no session at all instead of being looked up: PostgreSQL refuses NUL in a query
parameter, which turned such a cookie into a 500 on every page.
"""
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore


class SessionStore(DatabaseSessionStore):
    def _validate_session_key(self, key):
        return bool(super()._validate_session_key(key)) and key.isascii() and key.isalnum()
