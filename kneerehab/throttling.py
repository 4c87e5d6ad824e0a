from rest_framework.throttling import UserRateThrottle

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class UserWriteRateThrottle(UserRateThrottle):
    """Limits how many changes one user can make per minute; reads are not counted."""

    scope = "user_write"

    def allow_request(self, request, view):
        if request.method in SAFE_METHODS or not (request.user and request.user.is_authenticated):
            return True
        return super().allow_request(request, view)


class LoginRateThrottle(UserRateThrottle):
    """Token requests, counted per client address (the caller is anonymous)."""

    scope = "login"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
