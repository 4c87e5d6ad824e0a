"""Turning a checked upload into stored files, through Django's storage API (filesystem or S3-compatible)."""
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile

from . import images
from .inspection import IMAGE_FORMATS, MediaKind, inspect_upload
from .models import MediaFile

PILLOW_FORMAT = {extension: name for name, (_mime, extension) in IMAGE_FORMATS.items()}


def fill_media(media: MediaFile, *, upload: UploadedFile, title: str = "") -> MediaFile:
    """Checks `upload` by content and sets the files and facts of `media` (unsaved rows are saved by the caller).

    Pictures are stored re-encoded without metadata, with a thumbnail; videos as sent, once their container,
    length and size have passed.
    """
    facts = inspect_upload(upload)
    media.kind = facts.kind
    media.content_type = facts.content_type
    media.width, media.height = facts.width, facts.height
    media.duration_seconds = facts.duration_seconds
    media.title = title
    name = f"upload.{facts.extension}"
    if facts.kind == MediaKind.IMAGE:
        image_format = PILLOW_FORMAT[facts.extension]
        clean = images.without_metadata(upload, image_format=image_format)
        media.file.save(name, ContentFile(clean), save=False)
        media.thumbnail.save(name, ContentFile(images.thumbnail(upload, image_format=image_format)), save=False)
        media.size_bytes = len(clean)
    else:
        upload.seek(0)
        media.file.save(name, upload, save=False)
        media.size_bytes = facts.size_bytes
    return media


def delete_files(media: MediaFile) -> None:
    for field in (media.file, media.thumbnail):
        if field:
            field.delete(save=False)
