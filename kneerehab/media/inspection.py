"""What an uploaded file really is, judged by its content and never by its name or declared type.

Images are decoded in full with Pillow (a renamed text file or a truncated picture fails);
videos are read by MediaInfo (pymediainfo ships the library in its wheel) for their container,
video track and duration.
"""
import dataclasses
import warnings

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from PIL import Image, UnidentifiedImageError
from pymediainfo import MediaInfo

from kneerehab.errors import ApplicationError


class MediaKind:
    IMAGE = "image"
    VIDEO = "video"
    CHOICES = [(IMAGE, "Picture"), (VIDEO, "Video")]


# Formats a phone or a browser shows without plug-ins: Pillow's format name → (MIME type, extension).
IMAGE_FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}
# MediaInfo's general format → (MIME type, extension). QuickTime .mov files from iPhones report MPEG-4.
VIDEO_FORMATS = {"MPEG-4": ("video/mp4", "mp4"), "WebM": ("video/webm", "webm")}


@dataclasses.dataclass(frozen=True)
class InspectedMedia:
    kind: str
    content_type: str
    extension: str
    size_bytes: int
    width: int | None = None
    height: int | None = None
    duration_seconds: float | None = None


def _refuse(message: str):
    raise ApplicationError(message, fields={"file": [message]})


def inspect_upload(upload: UploadedFile) -> InspectedMedia:
    """The kind and facts of an upload; a 400 on `file` for anything that is not a picture or short video."""
    size = upload.size or 0
    if size == 0:
        _refuse("The file is empty.")
    head = _read_head(upload)
    if _looks_like_video(head):
        return _inspect_video(upload, size)
    return _inspect_image(upload, size)


def _read_head(upload: UploadedFile) -> bytes:
    upload.seek(0)
    head = upload.read(64)
    upload.seek(0)
    return head


def _looks_like_video(head: bytes) -> bool:
    # ISO base media (MP4/MOV: a box named "ftyp" at offset 4) or EBML (Matroska/WebM). Only a hint for which
    # decoder to try: the decoder then decides.
    return head[4:8] == b"ftyp" or head[:4] == b"\x1a\x45\xdf\xa3"


def _inspect_image(upload: UploadedFile, size: int) -> InspectedMedia:
    if size > settings.MEDIA_IMAGE_MAX_BYTES:
        _refuse(f"The picture is too large: at most {settings.MEDIA_IMAGE_MAX_BYTES // (1024 * 1024)} MB.")
    try:
        with warnings.catch_warnings():
            # A decompression bomb is an error here, not a warning.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            upload.seek(0)
            with Image.open(upload) as image:
                image_format = image.format
                width, height = image.size
                if width * height > settings.MEDIA_IMAGE_MAX_PIXELS:
                    _refuse("The picture has too many pixels.")
                # Decode every pixel: a header alone can be grafted onto anything.
                image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError,
            Image.DecompressionBombWarning):
        _refuse("This file is not a picture or video we can show (use JPEG, PNG or WebP; MP4 or WebM).")
    finally:
        upload.seek(0)
    if image_format not in IMAGE_FORMATS:
        _refuse(f"{image_format} pictures are not accepted: use JPEG, PNG or WebP.")
    content_type, extension = IMAGE_FORMATS[image_format]
    return InspectedMedia(kind=MediaKind.IMAGE, content_type=content_type, extension=extension,
                          size_bytes=size, width=width, height=height)


def _inspect_video(upload: UploadedFile, size: int) -> InspectedMedia:
    limit = settings.MEDIA_VIDEO_MAX_BYTES
    if size > limit:
        _refuse(f"The video is too large: at most {limit // (1024 * 1024)} MB.")
    upload.seek(0)
    try:
        info = MediaInfo.parse(upload)
    except (OSError, RuntimeError, ValueError):
        _refuse("This video could not be read.")
    finally:
        upload.seek(0)
    general = info.general_tracks[0] if info.general_tracks else None
    videos = info.video_tracks
    if general is None or general.format not in VIDEO_FORMATS or not videos:
        _refuse("This file is not a video we can show (use MP4 or WebM).")
    duration_ms = general.duration or videos[0].duration
    if not duration_ms:
        _refuse("This video has no length we can read.")
    seconds = float(duration_ms) / 1000
    if seconds > settings.MEDIA_VIDEO_MAX_SECONDS:
        _refuse(f"The video is too long: at most {settings.MEDIA_VIDEO_MAX_SECONDS} seconds.")
    content_type, extension = VIDEO_FORMATS[general.format]
    return InspectedMedia(kind=MediaKind.VIDEO, content_type=content_type, extension=extension, size_bytes=size,
                          width=videos[0].width, height=videos[0].height, duration_seconds=round(seconds, 2))
