"""Handing a stored file to someone already allowed to see it.

Through the application by default (the file streams from storage); with MEDIA_SIGNED_URL_SECONDS set and a
storage that signs URLs (S3-compatible through django-storages), a redirect to a URL that expires after that
many seconds, so large videos do not pass through the web process. Either way the permission check happened
before: the bucket itself stays private.
"""
from django.conf import settings
from django.http import FileResponse, HttpResponseRedirect

from .models import MediaFile

THUMBNAIL = "thumbnail"


def media_response(media: MediaFile, *, variant: str = ""):
    field = media.thumbnail if variant == THUMBNAIL and media.thumbnail else media.file
    seconds = settings.MEDIA_SIGNED_URL_SECONDS
    if seconds and _signs_urls(field.storage):
        return HttpResponseRedirect(field.storage.url(field.name, expire=seconds))
    response = FileResponse(field.open("rb"), content_type=media.content_type)
    # Private to the viewer: no shared cache may keep a patient's clip; the browser may, for a short while.
    response["Cache-Control"] = "private, max-age=300"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = "inline"
    return response


def _signs_urls(storage) -> bool:
    # django-storages' S3 storage takes `expire`; the filesystem storage's URLs are public paths, never used here.
    return getattr(storage, "querystring_auth", False)
