"""Pictures as stored: re-encoded without their metadata (a phone's photo carries where it was taken), and a
thumbnail made once at upload."""
import io

from PIL import Image, ImageOps

THUMBNAIL_SIZE = (480, 480)
SAVE_OPTIONS = {"JPEG": {"quality": 88, "optimize": True}, "PNG": {"optimize": True}, "WEBP": {"quality": 85}}


def _open_upright(data) -> Image.Image:
    image = Image.open(data)
    # The camera's orientation tag is about to be dropped with the rest: turn the pixels instead.
    return ImageOps.exif_transpose(image)


def _encode(image: Image.Image, image_format: str) -> bytes:
    if image_format == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    out = io.BytesIO()
    # Only the pixels are written: no EXIF (GPS, camera, time), no XMP, no ICC comment text.
    image.save(out, format=image_format, **SAVE_OPTIONS.get(image_format, {}))
    return out.getvalue()


def without_metadata(data, *, image_format: str) -> bytes:
    """The picture re-encoded from its pixels alone."""
    data.seek(0)
    with _open_upright(data) as image:
        image.info.clear()
        return _encode(image.copy(), image_format)


def thumbnail(data, *, image_format: str) -> bytes:
    """A small copy (at most 480 px a side) in the same format, for lists and the printed programme."""
    data.seek(0)
    with _open_upright(data) as image:
        small = image.copy()
        small.thumbnail(THUMBNAIL_SIZE)
        small.info.clear()
        return _encode(small, image_format)
