"""Progress: per local day and ISO week, phase history, open alerts, the latest prompt; constant queries."""
from datetime import UTC, date, datetime, timedelta

import pytest
from rest_framework.test import APIClient

from plans.models import PhaseChange
from tests.factories import (
    AlertFactory,
    CheckInFactory,
    ExerciseLogFactory,
    PatientFactory,
    PhysiotherapistFactory,
    PlanExerciseFactory,
    PlanFactory,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 20, 15, 0, tzinfo=UTC)  # Friday 20 March, 11:00 in New York


@pytest.fixture
def story(patient, physio, time_machine):
    """A New York patient on a plan since 10 March, with check-ins, logs, phase changes and alerts."""
    time_machine.move_to(NOW, tick=False)
    patient.timezone = "America/New_York"
    patient.save()
    plan = PlanFactory(patient=patient, physiotherapist=physio, start_date=date(2026, 3, 10),
                       condition__slug="calf-strain")
    exercise = PlanExerciseFactory(plan=plan, times_per_day=2, days_per_week=7)
    PlanExerciseFactory(plan=plan, phase="physiotherapy")  # not the current phase: not prescribed yet
    PhaseChange.objects.create(plan=plan, kind="start", to_phase="rice", changed_by=physio, reason="Assigned.")
    # 18 March local: 09:00, 15:00 and 22:00 (which is already 19 March in UTC).
    for at, rest, activity, swelling in [
        (datetime(2026, 3, 18, 13, 0, tzinfo=UTC), 2, 5, "mild"),
        (datetime(2026, 3, 18, 19, 0, tzinfo=UTC), 4, 6, "moderate"),
        (datetime(2026, 3, 19, 2, 0, tzinfo=UTC), 3, 4, "none"),
    ]:
        CheckInFactory(patient=patient, recorded_at=at, pain_at_rest=rest, pain_during_activity=activity,
                       swelling=swelling)
    latest = CheckInFactory(patient=patient, recorded_at=datetime(2026, 3, 20, 12, 0, tzinfo=UTC), pain_at_rest=1,
                            pain_during_activity=2, prompt_level="urgent",
                            prompt={"level": "urgent", "message": "Get medical attention today.",
                                    "reasons": [{"code": "fever", "message": "You have a fever."}]})
    ExerciseLogFactory(plan_exercise=exercise, date=date(2026, 3, 18))
    ExerciseLogFactory(plan_exercise=exercise, date=date(2026, 3, 18))
    ExerciseLogFactory(plan_exercise=exercise, date=date(2026, 3, 18))  # a third session counts as two
    ExerciseLogFactory(plan_exercise=exercise, date=date(2026, 3, 19))
    open_alert = AlertFactory(physiotherapist=physio, checkin=latest, level="urgent")
    other_physio = PhysiotherapistFactory()
    patient.physiotherapists.add(other_physio)
    AlertFactory(physiotherapist=other_physio, checkin=latest, level="urgent")
    AlertFactory(physiotherapist=physio, checkin=CheckInFactory(patient=patient, recorded_at=NOW - timedelta(days=5)),
                 status="acknowledged")
    return {"plan": plan, "latest": latest, "open_alert": open_alert}


def day(body, key, on: str) -> dict:
    return next(entry for entry in body[key] if entry["date"] == on)


def test_patient_progress_groups_by_local_day(patient_client, patient, story):
    response = patient_client.get("/api/v1/progress/")
    assert response.status_code == 200
    body = response.json()
    assert body["patient"] == {"id": patient.pk, "username": patient.username, "timezone": "America/New_York"}
    assert (body["since"], body["until"]) == ("2026-02-19", "2026-03-20")  # 30 local days up to today
    assert len(body["pain"]) == len(body["swelling"]) == len(body["adherence"]["days"]) == 30

    assert day(body, "pain", "2026-03-18") == {"date": "2026-03-18", "checkins": 3, "rest_mean": 3.0, "rest_max": 4,
                                               "activity_mean": 5.0, "activity_max": 6}
    assert day(body, "pain", "2026-03-19")["checkins"] == 0
    assert day(body, "pain", "2026-03-19")["rest_mean"] is None
    assert day(body, "swelling", "2026-03-18")["worst"] == "moderate"
    assert day(body, "swelling", "2026-03-17")["worst"] is None


def test_adherence_per_day_and_iso_week(patient_client, story):
    adherence = patient_client.get("/api/v1/progress/", {"since": "2026-03-09", "until": "2026-03-20"}).json()[
        "adherence"]
    days = {d["date"]: d for d in adherence["days"]}
    assert days["2026-03-09"] == {"date": "2026-03-09", "prescribed": 0.0, "logged": 0, "percent": None}
    assert days["2026-03-18"] == {"date": "2026-03-18", "prescribed": 2.0, "logged": 2, "percent": 100.0}
    assert days["2026-03-19"]["percent"] == 50.0
    assert [w["week"] for w in adherence["weeks"]] == ["2026-W11", "2026-W12"]
    week12 = adherence["weeks"][1]
    assert week12["start"] == "2026-03-16"
    assert week12["prescribed"] == 10.0  # Monday 16 to Friday 20, two sessions a day
    assert week12["logged"] == 3
    assert week12["percent"] == 30.0
    assert adherence["percent"] == round(100 * 3 / 22, 1)  # 11 days on the plan


def test_phase_history_open_alerts_and_latest_prompt(patient_client, physio_client, patient, story):
    patient_view = patient_client.get("/api/v1/progress/").json()
    assert [(c["kind"], c["to_phase"], c["condition"]) for c in patient_view["phase_history"]] == [
        ("start", "rice", "calf-strain")]
    # The patient sees the alerted check-in once, though two physiotherapists got an alert.
    assert [(a["checkin"], a["level"]) for a in patient_view["open_alerts"]] == [(story["latest"].pk, "urgent")]
    assert patient_view["latest_prompt"] == {
        "checkin": story["latest"].pk, "recorded_at": "2026-03-20T12:00:00Z", "level": "urgent",
        "message": "Get medical attention today.", "reasons": [{"code": "fever", "message": "You have a fever."}],
        "emergency_number": None,  # the factory's check-in was stored without one
    }
    physio_view = physio_client.get(f"/api/v1/patients/{patient.pk}/progress/").json()
    assert [a["checkin"] for a in physio_view["open_alerts"]] == [story["latest"].pk]
    assert physio_view["pain"] == patient_view["pain"]


def test_once_any_physiotherapist_acknowledges_the_patient_no_longer_sees_it_open(patient_client, physio_client,
                                                                                 story):
    assert physio_client.post(f"/api/v1/alerts/{story['open_alert'].pk}/acknowledge/",
                              {"outcome": "called_patient"}, format="json").status_code == 200
    assert patient_client.get("/api/v1/progress/").json()["open_alerts"] == []


def test_a_new_patient_has_empty_progress(patient_client):
    body = patient_client.get("/api/v1/progress/").json()
    assert body["latest_prompt"] is None
    assert body["open_alerts"] == [] and body["phase_history"] == []
    assert body["adherence"]["percent"] is None
    assert all(entry["checkins"] == 0 for entry in body["pain"])


@pytest.mark.parametrize(("params", "field"), [
    ({"since": "2026-03-10", "until": "2026-03-01"}, "since"),
    ({"since": "2024-01-01", "until": "2026-03-01"}, "since"),
    ({"since": "soon"}, "since"),
    ({"until": "3000-13-01"}, "until"),
])
def test_a_bad_range_is_400(patient_client, params, field):
    response = patient_client.get("/api/v1/progress/", params)
    assert response.status_code == 400
    assert field in response.json()["fields"]


def test_until_alone_gives_the_30_days_before_it(patient_client, story):
    body = patient_client.get("/api/v1/progress/", {"until": "2026-03-01"}).json()
    assert (body["since"], body["until"]) == ("2026-01-31", "2026-03-01")


def test_who_may_see_whose_progress(patient_client, physio_client, patient):
    outsider = PatientFactory(physiotherapists=[PhysiotherapistFactory()])
    assert physio_client.get(f"/api/v1/patients/{patient.pk}/progress/").status_code == 200
    assert physio_client.get(f"/api/v1/patients/{outsider.pk}/progress/").status_code == 404
    assert physio_client.get("/api/v1/patients/999999/progress/").status_code == 404
    assert patient_client.get(f"/api/v1/patients/{patient.pk}/progress/").status_code == 403
    assert physio_client.get("/api/v1/progress/").status_code == 403
    assert APIClient().get("/api/v1/progress/").status_code == 401


@pytest.mark.parametrize(("days", "rows"), [(7, 3), (200, 120)])
def test_progress_queries_do_not_grow_with_range_or_rows(physio_client, patient, physio, days, rows, time_machine,
                                                          django_assert_max_num_queries):
    time_machine.move_to(NOW, tick=False)
    plan = PlanFactory(patient=patient, physiotherapist=physio, start_date=date(2025, 6, 1))
    exercises = [PlanExerciseFactory(plan=plan) for _ in range(3)]
    for i in range(rows):
        at = NOW - timedelta(hours=37 * i)
        checkin = CheckInFactory(patient=patient, recorded_at=at, pain_at_rest=i % 10)
        ExerciseLogFactory(plan_exercise=exercises[i % 3], date=at.date())
        PhaseChange.objects.create(plan=plan, kind="advance", from_phase="rice", to_phase="physiotherapy")
        if i % 4 == 0:
            AlertFactory(physiotherapist=physio, checkin=checkin)
    since = (NOW - timedelta(days=days - 1)).date().isoformat()
    # patient lookup, check-ins, plan exercises, log counts, phase changes, alerts, latest prompt, audit record
    with django_assert_max_num_queries(8):
        response = physio_client.get(f"/api/v1/patients/{patient.pk}/progress/", {"since": since})
    assert response.status_code == 200
    assert len(response.json()["pain"]) == days
