import re

from django.conf import settings

from kneerehab.proxies import client_ip

from .models import AuditAction, AuditEvent

METHOD_ACTIONS = {
    "GET": AuditAction.READ, "HEAD": AuditAction.READ,
    "POST": AuditAction.CREATE, "PUT": AuditAction.UPDATE, "PATCH": AuditAction.UPDATE,
    "DELETE": AuditAction.DELETE,
}
_patterns: list[re.Pattern] | None = None


def _audited_patterns() -> list[re.Pattern]:
    global _patterns
    if _patterns is None:
        _patterns = [re.compile(p) for p in settings.AUDIT_PATH_PATTERNS]
    return _patterns


def is_audited_path(path: str) -> bool:
    return any(p.search(path) for p in _audited_patterns())


def _text(value: str, limit: int) -> str:
    """Client-supplied text as PostgreSQL can store it: a NUL byte (a common probe) would fail the insert
    and lose the very event worth keeping."""
    return str(value).replace("\x00", "\ufffd")[:limit]


def audit_record(*, user, action: str, resource: str, request=None, object_id: str = "",
                 subject_patient_id: int | None = None, status_code: int | None = None,
                 detail: dict | None = None) -> AuditEvent:
    authenticated = user is not None and getattr(user, "is_authenticated", False)
    event = AuditEvent(
        user=user if authenticated else None,
        username=user.get_username() if authenticated else "",
        action=action,
        resource=_text(resource, 100),
        object_id=_text(object_id, 64),
        subject_patient_id=subject_patient_id,
        status_code=status_code,
        detail=detail or {},
    )
    if request is not None:
        event.method = request.method
        event.path = _text(request.path, 500)
        event.query = _text(request.META.get("QUERY_STRING", ""), 500)
        event.ip_address = client_ip(request)
        event.user_agent = _text(request.META.get("HTTP_USER_AGENT", ""), 300)
    event.save()
    return event


def audit_request(*, request, response) -> AuditEvent | None:
    """Record one request to a health-data endpoint, allowed or refused."""
    if not is_audited_path(request.path):
        return None
    match = getattr(request, "resolver_match", None)
    kwargs = match.kwargs if match else {}
    user = getattr(request, "user", None)
    subject = kwargs.get("patient_id")
    if subject is None and user is not None and getattr(user, "is_patient", False):
        subject = user.pk
    return audit_record(
        user=user,
        action=METHOD_ACTIONS.get(request.method, AuditAction.READ),
        resource=(match.view_name if match else "") or "unresolved",
        request=request,
        object_id=str(kwargs.get("pk") or kwargs.get("id") or kwargs.get("object_id") or kwargs.get("slug") or ""),
        subject_patient_id=int(subject) if subject is not None else None,
        status_code=response.status_code,
    )
