"""Exercise media through HTTP: a physiotherapist uploads, their patient sees it, nobody else does."""
import pytest
from rest_framework.test import APIClient

from conditions.models import ExerciseMedia
from plans.models import PlanExerciseMedia
from plans.services import plan_create
from tests.factories import PatientFactory, PhysiotherapistFactory, make_path

from .files import has_gps, picture, video

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def meniscus():
    return make_path()


@pytest.fixture
def plan(physio, patient, meniscus):
    return plan_create(physiotherapist=physio, patient_id=patient.pk, condition_slug=meniscus.slug)


@pytest.fixture
def other_patient(meniscus):
    """Another physiotherapist's patient, on the same path (so the same exercises)."""
    other_physio = PhysiotherapistFactory()
    other = PatientFactory(physiotherapists=[other_physio])
    plan_create(physiotherapist=other_physio, patient_id=other.pk, condition_slug=meniscus.slug)
    return other


def upload_library(client, slug, upload, **data):
    return client.post(f"/api/v1/exercises/{slug}/media/", {"file": upload, **data}, format="multipart")


def today_media(client) -> dict[str, list[dict]]:
    response = client.get("/api/v1/today/")
    assert response.status_code == 200, response.content
    return {item["exercise"]["slug"]: item["media"] for item in response.json()["exercises"]}


def fetch(client, url):
    response = client.get(url)
    body = b"".join(response.streaming_content) if getattr(response, "streaming", False) else response.content
    return response, body


def test_a_physiotherapist_uploads_a_picture_and_a_video_and_their_patient_sees_both_on_today(
        physio, patient, plan, other_patient):
    physio_client = client_for(physio)
    picture_response = upload_library(physio_client, "quad-sets", picture(gps=True, noise=True),
                                      title="Quadriceps setting")
    video_response = upload_library(physio_client, "quad-sets", video())
    assert picture_response.status_code == 201, picture_response.content
    assert video_response.status_code == 201, video_response.content

    patient_client = client_for(patient)
    media = today_media(patient_client)["quad-sets"]
    assert [(m["kind"], m["source"], m["content_type"]) for m in media] == [
        ("image", "library", "image/jpeg"), ("video", "library", "video/mp4")]
    assert media[0]["title"] == "Quadriceps setting"
    assert media[1]["duration_seconds"] == pytest.approx(2.0, abs=0.2)
    assert media[1]["thumbnail_url"] is None

    response, body = fetch(patient_client, media[0]["url"])
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "private, max-age=300"
    assert body[:3] == b"\xff\xd8\xff" and not has_gps(body)
    thumbnail, thumb_body = fetch(patient_client, media[0]["thumbnail_url"])
    assert thumbnail.status_code == 200 and len(thumb_body) < len(body)
    response, body = fetch(patient_client, media[1]["url"])
    assert (response.status_code, response["Content-Type"], body[4:8]) == (200, "video/mp4", b"ftyp")

    # Another physiotherapist's patient, with the same exercise on their plan: no media, and the URL is a 404.
    other_client = client_for(other_patient)
    assert today_media(other_client).get("quad-sets", []) == []
    for item in media:
        response = other_client.get(item["url"])
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


def test_library_media_reach_only_the_uploaders_patients_with_that_exercise(physio, patient, plan, meniscus):
    upload_library(client_for(physio), "bridges", picture())
    media_id = ExerciseMedia.objects.get().pk
    url = f"/api/v1/exercise-media/{media_id}/file/"
    # Bridges are in the plan's next phase: not on Today yet, but the plan is the patient's.
    assert client_for(patient).get(url).status_code == 200
    same_physio_no_plan = PatientFactory(physiotherapists=[physio])
    assert client_for(same_physio_no_plan).get(url).status_code == 404
    assert client_for(PhysiotherapistFactory()).get(url).status_code == 404
    assert client_for(physio).get(url).status_code == 200
    assert APIClient().get(url).status_code == 401


def test_shared_library_media_are_seen_by_everyone_signed_in(physio, patient, plan, other_patient):
    staff = PhysiotherapistFactory(is_staff=True)
    media = ExerciseMedia(exercise=plan.exercises.get(exercise__slug="quad-sets").exercise, shared=True,
                          uploaded_by=staff)
    from kneerehab.media.storing import fill_media

    fill_media(media, upload=picture())
    media.save()
    assert [m["id"] for m in today_media(client_for(other_patient))["quad-sets"]] == [media.pk]
    assert client_for(other_patient).get(f"/api/v1/exercise-media/{media.pk}/file/").status_code == 200


def test_a_clip_for_one_patients_exercise(physio, patient, plan, other_patient):
    quad = plan.exercises.get(exercise__slug="quad-sets")
    response = client_for(physio).post(f"/api/v1/plans/{plan.pk}/media/",
                                       {"file": video(), "plan_exercise": quad.pk, "title": "Recorded with you"},
                                       format="multipart")
    assert response.status_code == 201, response.content
    assert response.json()["source"] == "plan"

    detail = client_for(patient).get(f"/api/v1/plans/{plan.pk}/").json()
    by_id = {pe["id"]: pe["media"] for pe in detail["exercises"]}
    assert [m["title"] for m in by_id[quad.pk]] == ["Recorded with you"]
    assert [m["title"] for m in today_media(client_for(patient))["quad-sets"]] == ["Recorded with you"]
    url = by_id[quad.pk][0]["url"]
    assert fetch(client_for(patient), url)[0].status_code == 200
    assert client_for(other_patient).get(url).status_code == 404
    assert client_for(PhysiotherapistFactory()).get(url).status_code == 404


def test_an_upload_to_another_plans_exercise_is_refused(physio, plan, other_patient):
    foreign = other_patient.plans.get().exercises.first()
    response = client_for(physio).post(f"/api/v1/plans/{plan.pk}/media/",
                                       {"file": picture(), "plan_exercise": foreign.pk}, format="multipart")
    assert response.status_code == 400
    assert response.json()["fields"] == {"plan_exercise": ["Not an exercise of this plan."]}
    assert PlanExerciseMedia.objects.count() == 0


def test_a_renamed_text_file_is_a_field_error_through_http(physio, plan):
    from .files import text_renamed

    response = upload_library(client_for(physio), "quad-sets", text_renamed("squat.png"))
    assert response.status_code == 400
    assert "not a picture or video" in response.json()["fields"]["file"][0]


def test_an_oversized_video_is_refused_before_it_is_read(physio, plan, settings):
    settings.MEDIA_VIDEO_MAX_BYTES = 2000
    settings.API_MAX_UPLOAD_BYTES = 2000
    response = upload_library(client_for(physio), "quad-sets", video())
    assert response.status_code == 413
    assert ExerciseMedia.objects.count() == 0


def test_uploads_are_not_reachable_outside_the_api(physio, patient, plan, client):
    upload_library(client_for(physio), "quad-sets", picture())
    name = ExerciseMedia.objects.get().file.name
    client.force_login(patient)
    for path in (f"/media/{name}", f"/media-files-are-served-by-the-api/{name}", f"/static/{name}"):
        assert client.get(path).status_code == 404


def test_with_object_storage_the_file_url_redirects_to_a_short_lived_signed_url(physio, patient, plan, settings):
    upload_library(client_for(physio), "quad-sets", picture())
    media = ExerciseMedia.objects.get()
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {"bucket_name": "kneerehab-media", "endpoint_url": "http://127.0.0.1:9000",
                    "access_key": "test-access", "secret_key": "test-secret", "region_name": "eu-west-1",
                    "default_acl": "private", "querystring_auth": True, "signature_version": "s3v4"},
    }}
    settings.MEDIA_SIGNED_URL_SECONDS = 60

    response = client_for(patient).get(f"/api/v1/exercise-media/{media.pk}/file/")

    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(f"http://127.0.0.1:9000/kneerehab-media/{media.file.name}?")
    assert "X-Amz-Expires=60" in location and "X-Amz-Signature=" in location
    # The check comes first: another patient gets no signed URL.
    assert client_for(PatientFactory()).get(f"/api/v1/exercise-media/{media.pk}/file/").status_code == 404


def test_a_physiotherapist_lists_the_media_they_can_use(physio, plan):
    upload_library(client_for(physio), "quad-sets", picture(), title="Mine")
    other = PhysiotherapistFactory()
    upload_library(client_for(other), "quad-sets", picture(), title="Theirs")
    response = client_for(physio).get("/api/v1/exercises/quad-sets/media/")
    assert [m["title"] for m in response.json()] == ["Mine"]


def test_today_reads_media_in_a_fixed_number_of_queries(physio, patient, plan, django_assert_max_num_queries):
    for slug in ("quad-sets", "heel-slides"):
        upload_library(client_for(physio), slug, picture())
        upload_library(client_for(physio), slug, video())
    with django_assert_max_num_queries(8):
        today_media(client_for(patient))


def test_a_video_is_served_in_byte_ranges_for_players_that_ask(physio, patient, plan):
    upload_library(client_for(physio), "quad-sets", video())
    media = ExerciseMedia.objects.get()
    url = f"/api/v1/exercise-media/{media.pk}/file/"
    whole = b"".join(client_for(patient).get(url).streaming_content)
    size = len(whole)

    first_two = client_for(patient).get(url, HTTP_RANGE="bytes=0-1")
    assert first_two.status_code == 206
    assert (first_two["Content-Range"], first_two.content) == (f"bytes 0-1/{size}", whole[:2])
    assert first_two["Accept-Ranges"] == "bytes"
    tail = client_for(patient).get(url, HTTP_RANGE="bytes=-100")
    assert (tail.status_code, tail.content) == (206, whole[-100:])
    rest = client_for(patient).get(url, HTTP_RANGE="bytes=100-")
    assert (rest["Content-Range"], rest.content) == (f"bytes 100-{size - 1}/{size}", whole[100:])
    beyond = client_for(patient).get(url, HTTP_RANGE=f"bytes={size}-")
    assert beyond.status_code == 416 and beyond["Content-Range"] == f"bytes */{size}"
    # The range is read only after the permission check.
    assert client_for(PatientFactory()).get(url, HTTP_RANGE="bytes=0-1").status_code == 404
