def is_htmx(request) -> bool:
    """True for a request made by htmx, which wants a fragment of the page rather than all of it."""
    return request.headers.get("HX-Request") == "true"
