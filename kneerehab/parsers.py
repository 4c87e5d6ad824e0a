"""The API's one request parser: JSON, with a bound on how deeply a document may nest."""
from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError


def nesting_depth_exceeds(data, limit: int) -> bool:
    """True when arrays and objects in `data` nest more than `limit` levels deep (walked without recursion)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing a document nested deeper than API_MAX_JSON_DEPTH with a 400.

    No request of the API nests more than a few levels. Python's decoder gives up near a thousand levels
    with a RecursionError (a 500), and whatever walks the document afterwards (validation, error messages)
    recurses as well.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.API_MAX_JSON_DEPTH
        message = f"JSON parse error - arrays and objects nest at most {limit} levels deep."
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(message) from None
        if nesting_depth_exceeds(data, limit):
            raise ParseError(message)
        return data
