"""Uploads are judged by what they contain: real pictures decoded, videos' containers and length read."""
import io

import pytest
from PIL import Image

from conditions.models import ExerciseMedia
from conditions.services import exercise_media_add
from kneerehab.errors import ApplicationError
from tests.factories import ExerciseFactory

from .files import has_gps, picture, picture_bytes, text_renamed, video

pytestmark = pytest.mark.django_db


@pytest.fixture
def exercise():
    return ExerciseFactory(slug="quad-sets", name="Quadriceps setting")


def add(exercise, physio, upload, **kwargs):
    return exercise_media_add(exercise=exercise, uploaded_by=physio, upload=upload, **kwargs)


def file_error(excinfo) -> str:
    return " ".join(excinfo.value.fields["file"])


def test_a_text_file_named_like_a_picture_is_refused(exercise, physio):
    with pytest.raises(ApplicationError) as excinfo:
        add(exercise, physio, text_renamed("squat.jpg"))
    assert "not a picture or video" in file_error(excinfo)
    assert ExerciseMedia.objects.count() == 0


def test_a_text_file_named_like_a_video_is_refused(exercise, physio):
    with pytest.raises(ApplicationError) as excinfo:
        add(exercise, physio, text_renamed("squat.mp4"))
    assert "not a picture or video" in file_error(excinfo)


def test_a_picture_cut_short_is_refused(exercise, physio):
    # As in the running service, where the PDF programme's renderer is loaded too (it relaxes Pillow on import).
    import kneerehab.programme.document  # noqa: F401

    data = picture_bytes(image_format="PNG", size=(800, 800))
    truncated = picture(image_format="PNG")
    truncated.file = io.BytesIO(data[: len(data) // 2])
    truncated.size = len(data) // 2
    with pytest.raises(ApplicationError):
        add(exercise, physio, truncated)


def test_a_gif_is_refused_by_its_format(exercise, physio):
    with pytest.raises(ApplicationError) as excinfo:
        add(exercise, physio, picture("wave.gif", image_format="GIF"))
    assert "GIF pictures are not accepted" in file_error(excinfo)


def test_a_picture_is_stored_without_its_location_and_with_a_thumbnail(exercise, physio):
    upload = picture("IMG_0042.jpg", gps=True, size=(1600, 1200))
    assert has_gps(upload.read())
    upload.seek(0)

    media = add(exercise, physio, upload, title="Quadriceps setting, side view")

    stored = media.file.read()
    assert not has_gps(stored)
    with Image.open(io.BytesIO(stored)) as image:
        assert not image.getexif()  # nothing of the camera's metadata is left
        assert image.size == (1600, 1200)
    with Image.open(media.thumbnail.open("rb")) as thumb:
        assert max(thumb.size) == 480
    assert (media.kind, media.content_type, media.width, media.height) == ("image", "image/jpeg", 1600, 1200)
    # The uploader's file name (which may carry personal details) is not kept.
    assert "IMG_0042" not in media.file.name and media.file.name.startswith("exercise-media/")


def test_a_picture_taken_sideways_is_stored_upright(exercise, physio):
    image = Image.new("RGB", (300, 100), (10, 10, 10))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to display
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    upload = picture()
    upload.file, upload.size = io.BytesIO(out.getvalue()), len(out.getvalue())

    media = add(exercise, physio, upload)

    with Image.open(media.file.open("rb")) as stored:
        assert stored.size == (100, 300)


@pytest.mark.parametrize(("name", "content_type"), [("clip-2s.mp4", "video/mp4"), ("clip-2s.webm", "video/webm")])
def test_a_short_video_is_stored_as_sent(exercise, physio, name, content_type):
    upload = video(name)
    media = add(exercise, physio, upload)
    assert (media.kind, media.content_type) == ("video", content_type)
    assert media.duration_seconds == pytest.approx(2.0, abs=0.2)
    assert (media.width, media.height) == (96, 64)
    assert media.file.read() == (upload.seek(0) or upload.read())
    assert not media.thumbnail


def test_a_video_over_the_size_limit_is_refused(exercise, physio, settings):
    settings.MEDIA_VIDEO_MAX_BYTES = 1024
    with pytest.raises(ApplicationError) as excinfo:
        add(exercise, physio, video())
    assert "too large" in file_error(excinfo)
    assert ExerciseMedia.objects.count() == 0


def test_a_video_over_the_length_limit_is_refused(exercise, physio, settings):
    settings.MEDIA_VIDEO_MAX_SECONDS = 1
    with pytest.raises(ApplicationError) as excinfo:
        add(exercise, physio, video())
    assert "too long: at most 1 seconds" in file_error(excinfo)


def test_a_picture_over_the_size_limit_is_refused(exercise, physio, settings):
    settings.MEDIA_IMAGE_MAX_BYTES = 1000
    with pytest.raises(ApplicationError) as excinfo:
        add(exercise, physio, picture())
    assert "too large" in file_error(excinfo)


def test_a_video_header_on_a_text_body_is_refused(exercise, physio):
    upload = text_renamed("clip.mp4")
    upload.file = io.BytesIO(b"\x00\x00\x00\x18ftypmp42" + b"not a movie at all " * 50)
    upload.size = len(upload.file.getvalue())
    with pytest.raises(ApplicationError) as excinfo:
        add(exercise, physio, upload)
    assert "not a video we can show" in file_error(excinfo)


def test_a_patient_cannot_add_library_media(exercise, patient):
    with pytest.raises(ApplicationError) as excinfo:
        add(exercise, patient, picture())
    assert excinfo.value.status_code == 403
