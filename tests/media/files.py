"""Files for upload tests: pictures drawn here with Pillow, and the two short videos in data/."""
import io
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

DATA = Path(__file__).parent / "data"
GPS_IFD = 0x8825
# 51°30'N 0°7'W, as a phone would write it.
GPS = {1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)}


def picture_bytes(*, image_format: str = "JPEG", size=(640, 400), gps: bool = False, color=(200, 60, 40),
                  noise: bool = False) -> bytes:
    # Noise does not compress: a picture of a realistic file size (solid colour is a few kilobytes).
    image = Image.effect_noise(size, 80).convert("RGB") if noise else Image.new("RGB", size, color)
    out = io.BytesIO()
    options = {}
    if gps:
        exif = Image.Exif()
        exif[0x010F] = "PhoneMaker"  # Make
        exif.get_ifd(GPS_IFD).update(GPS)
        options["exif"] = exif
    image.save(out, format=image_format, **options)
    return out.getvalue()


def picture(name: str = "quad-sets.jpg", **kwargs) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, picture_bytes(**kwargs), content_type="image/jpeg")


def video(name: str = "clip-2s.mp4", *, as_name: str | None = None) -> SimpleUploadedFile:
    data = (DATA / name).read_bytes()
    content_type = "video/webm" if name.endswith(".webm") else "video/mp4"
    return SimpleUploadedFile(as_name or name, data, content_type=content_type)


def text_renamed(name: str = "exercise.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"Do ten slow squats, then rest.\n" * 20, content_type="image/jpeg")


def has_gps(data: bytes) -> bool:
    with Image.open(io.BytesIO(data)) as image:
        return bool(image.getexif().get_ifd(GPS_IFD))
