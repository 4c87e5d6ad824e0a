"""The API's rate limits. Counters live in the cache, which the settings share between processes.

Anonymous callers are counted per client address as kneerehab.proxies tells it (X-Forwarded-For only
from trusted proxies). Should the cache be unreachable, requests are let through rather than refused:
the limits guard against abuse, and must not take the service down with them.
"""
import logging

from rest_framework import throttling

from kneerehab.proxies import client_ip

logger = logging.getLogger(__name__)

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class ClientAddressMixin:
    def get_ident(self, request):
        return client_ip(request) or ""

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except Exception:  # the cache is down: let the request through
            logger.warning("rate limit not checked: the cache is unreachable", exc_info=True)
            return True


class AnonRateThrottle(ClientAddressMixin, throttling.AnonRateThrottle):
    """Requests without credentials, counted per client address."""


class UserWriteRateThrottle(ClientAddressMixin, throttling.UserRateThrottle):
    """Limits how many changes one user can make per minute; reads are not counted."""

    scope = "user_write"

    def allow_request(self, request, view):
        if request.method in SAFE_METHODS or not (request.user and request.user.is_authenticated):
            return True
        return super().allow_request(request, view)


class LoginRateThrottle(ClientAddressMixin, throttling.UserRateThrottle):
    """Token requests, counted per client address (the caller is anonymous)."""

    scope = "login"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
