"""The address a request came from, given how many proxies of our own stand in front (settings.NUM_PROXIES).

With none (0, the default) it is the socket's peer, REMOTE_ADDR, and X-Forwarded-For is ignored: any
client can write that header. Behind N trusted proxies, each appends the address it received the request
from, so the N-th address from the right was written by our outermost proxy: the client's. Addresses to
its left were sent by the client and are ignored. Throttles, the sign-in lockout and the audit trail all
ask here.
"""
import ipaddress

from django.conf import settings


def client_ip(request) -> str | None:
    remote = request.META.get("REMOTE_ADDR") or None
    proxies = settings.NUM_PROXIES
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if not forwarded:
        return remote
    candidate = forwarded[-min(proxies, len(forwarded))]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:  # not written by a proxy of ours: the address columns would refuse it
        return remote
