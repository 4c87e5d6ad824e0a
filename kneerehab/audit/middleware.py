import logging

from .services import audit_request

logger = logging.getLogger(__name__)


class AuditMiddleware:
    """Records every request to a health-data endpoint (settings.AUDIT_PATH_PATTERNS).

    It runs after the view, when DRF has authenticated the caller (JWT too) and
    the outcome is known, so refused attempts are on record as well.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        try:
            audit_request(request=request, response=response)
        except Exception:  # the audit must not turn an answered request into an error
            logger.exception("could not record the audit event for %s %s", request.method, request.path)
        return response
