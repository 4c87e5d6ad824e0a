"""OpenAPI schema post-processing: the error answers every operation can give, in the one error shape.

drf-spectacular documents the successful answers a view declares. The errors
come from layers every view shares (authentication, permissions, throttles,
parsers, the body size limit, pagination, the database), so they are added here
once, for every operation, instead of on each view. A view that describes an
error itself keeps its description; the body schema is filled in if missing.
"""
ERROR_COMPONENT = "Error"
ERROR_SCHEMA = {
    "type": "object",
    "description": "Every 4xx/5xx answer under /api/.",
    "properties": {
        "code": {"type": "string", "description": "Machine-readable, e.g. validation_error, not_found, throttled."},
        "message": {"type": "string", "description": "A sentence to show the user."},
        "fields": {
            "type": "object",
            "description": "Per field (or non_field_errors), the messages: a list of strings, or for nested "
                           "data (lists of objects) the same shape nested.",
            "additionalProperties": {},
        },
    },
    "required": ["code", "message"],
}

# Status → why any operation may answer it.
COMMON_ERRORS = {
    "400": "The request is not valid: a field, a query parameter or the body (see `fields`).",
    "401": "No credentials, or an invalid or expired token.",
    "403": "Your role may not do this (or, with session authentication, the CSRF check failed).",
    "404": "Not found, or not yours to see (the two are not told apart); also a page number past the end.",
    "429": "Too many requests: wait for the number of seconds in Retry-After.",
    "503": "The database is briefly unavailable: retry after the number of seconds in Retry-After.",
}
BODY_ERRORS = {
    "413": "The body is larger than the API accepts.",
    "415": "The body is not JSON (send Content-Type: application/json).",
}
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def document_error_responses(result, generator, request, public):
    """POSTPROCESSING_HOOKS entry: add the common error answers to every operation."""
    result.setdefault("components", {}).setdefault("schemas", {})[ERROR_COMPONENT] = ERROR_SCHEMA
    content = {"application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}}}
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in HTTP_METHODS:
                continue
            errors = dict(COMMON_ERRORS)
            if "requestBody" in operation:
                errors.update(BODY_ERRORS)
            responses = operation.setdefault("responses", {})
            for status, description in errors.items():
                responses.setdefault(status, {"description": description})
            for status, response in responses.items():
                if status.startswith(("4", "5")) and "content" not in response:
                    response["content"] = content
    return result
