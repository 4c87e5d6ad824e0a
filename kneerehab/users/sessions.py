"""Browser sessions end after a while without a request, and after a fixed time whatever the activity.

SESSION_IDLE_TIMEOUT_SECONDS and SESSION_MAX_AGE_SECONDS (settings). Both are checked on the server, from
two stamps kept in the session itself, so a copied cookie is worth no more than the browser's own.
Bearer tokens (the mobile app) have their own lifetimes and are not concerned.
"""
import time

from django.conf import settings
from django.contrib.auth import SESSION_KEY, logout

SIGNED_IN_AT = "signed_in_at"
LAST_SEEN_AT = "last_seen_at"
# The idle clock is moved at most this often, so that reading pages does not write the session each time.
TOUCH_EVERY_SECONDS = 60


def stamp_sign_in(sender, request, user, **kwargs):
    """user_logged_in: both clocks start at sign-in."""
    session = getattr(request, "session", None)
    if session is not None:
        now = int(time.time())
        session[SIGNED_IN_AT] = now
        session[LAST_SEEN_AT] = now


class SessionTimeoutMiddleware:
    """Signs the browser out once its session has been idle too long or has reached its maximum age."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = request.session
        if SESSION_KEY in session:
            now = int(time.time())
            signed_in_at = session.setdefault(SIGNED_IN_AT, now)  # a session from before these stamps
            last_seen_at = session.get(LAST_SEEN_AT, signed_in_at)
            if (now - signed_in_at >= settings.SESSION_MAX_AGE_SECONDS
                    or now - last_seen_at >= settings.SESSION_IDLE_TIMEOUT_SECONDS):
                logout(request)  # the session is emptied; this request goes on as an anonymous one
            elif now - last_seen_at >= TOUCH_EVERY_SECONDS:
                session[LAST_SEEN_AT] = now
        return self.get_response(request)
