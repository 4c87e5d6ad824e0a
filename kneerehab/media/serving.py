"""Handing a stored file to someone already allowed to see it.

Through the application by default (the file streams from storage, with byte ranges: Safari plays no video
without them); with MEDIA_SIGNED_URL_SECONDS set and a storage that signs URLs (S3-compatible through
django-storages), a redirect to a URL that expires after that many seconds, so large videos do not pass through
the web process. Either way the permission check happened before: the bucket itself stays private.
"""
import re

from django.conf import settings
from django.http import FileResponse, HttpResponse, HttpResponseRedirect, JsonResponse

from kneerehab.errors import error_body

from .models import MediaFile

THUMBNAIL = "thumbnail"
# One answer to an open-ended range ("bytes=1000-") carries at most this much; the player asks for the rest.
RANGE_CHUNK_BYTES = 4 * 1024 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def media_response(media: MediaFile, *, variant: str = "", range_header: str = ""):
    field = media.thumbnail if variant == THUMBNAIL and media.thumbnail else media.file
    seconds = settings.MEDIA_SIGNED_URL_SECONDS
    if seconds and _signs_urls(field.storage):
        return HttpResponseRedirect(field.storage.url(field.name, expire=seconds))
    if range_header:
        response = _partial(field, media.content_type, range_header)
    else:
        response = FileResponse(field.open("rb"), content_type=media.content_type)
    # Private to the viewer: no shared cache may keep a patient's clip; the browser may, for a short while.
    response["Cache-Control"] = "private, max-age=300"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = "inline"
    response["Accept-Ranges"] = "bytes"
    return response


def _partial(field, content_type: str, range_header: str):
    size = field.size
    match = _RANGE.match(range_header.strip())
    first, last = _bounds(match, size) if match else (None, None)
    if first is None:
        response = JsonResponse(error_body(code="range_not_satisfiable",
                                           message="The requested byte range is not in the file."), status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response
    with field.open("rb") as stored:
        stored.seek(first)
        body = stored.read(last - first + 1)
    response = HttpResponse(body, status=206, content_type=content_type)
    response["Content-Range"] = f"bytes {first}-{last}/{size}"
    return response


def _bounds(match, size: int) -> tuple[int | None, int | None]:
    start, end = match.group(1), match.group(2)
    if start == "" and end == "":
        return None, None
    if start == "":  # the last N bytes
        length = int(end)
        if length == 0:
            return None, None
        return max(size - length, 0), size - 1
    first = int(start)
    if first >= size:
        return None, None
    last = min(int(end), size - 1) if end else min(first + RANGE_CHUNK_BYTES - 1, size - 1)
    if last < first:
        return None, None
    return first, last


def _signs_urls(storage) -> bool:
    # django-storages' S3 storage takes `expire`; the filesystem storage's URLs are public paths, never used here.
    return getattr(storage, "querystring_auth", False)
