"""Reads: what each user sees, the caseload figures and the patient's local day."""
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from conditions.models import PhaseKey
from plans.selectors import caseload_adherence, caseload_list, plans_visible_to, today_for_patient
from plans.services import plan_advance, plan_create, plan_update
from tests.factories import PatientFactory, PhysiotherapistFactory, make_path
from tracker.models import Alert, AlertStatus

from .conftest import record_checkin, record_log

pytestmark = pytest.mark.django_db

# 20:00 UTC on 10 March 2026: already 11 March (09:00, NZDT) in Auckland, still 10 March (13:00, PDT) in
# Los Angeles.
INSTANT = datetime(2026, 3, 10, 20, 0, tzinfo=UTC)


@pytest.fixture
def two_zones(physio, meniscus):
    with time_machine.travel(INSTANT, tick=False):
        plans = {}
        for zone in ("Pacific/Auckland", "America/Los_Angeles"):
            patient = PatientFactory(timezone=zone, physiotherapists=[physio])
            plans[zone] = plan_create(physiotherapist=physio, patient_id=patient.pk, condition_slug=meniscus.slug,
                                      start_date=date(2026, 3, 9))
        yield plans


def test_today_follows_the_patients_time_zone(two_zones):
    auckland, los_angeles = two_zones["Pacific/Auckland"], two_zones["America/Los_Angeles"]
    quad_akl = auckland.exercises.get(phase="rice", exercise__slug="quad-sets")
    quad_la = los_angeles.exercises.get(phase="rice", exercise__slug="quad-sets")
    # Each patient logs both sessions "yesterday" and "today" by their own calendar.
    for pe, local_today in ((quad_akl, date(2026, 3, 11)), (quad_la, date(2026, 3, 10))):
        for _ in range(2):
            record_log(pe, local_today)
    record_log(quad_akl, date(2026, 3, 10))  # Auckland's yesterday: does not count today

    with time_machine.travel(INSTANT, tick=False):
        akl = today_for_patient(patient=auckland.patient)
        la = today_for_patient(patient=los_angeles.patient)
    assert akl["date"] == date(2026, 3, 11)
    assert la["date"] == date(2026, 3, 10)
    for day in (akl, la):
        quad = next(e for e in day["exercises"] if e.exercise.slug == "quad-sets")
        assert quad.logged_sessions == 2
        slides = next(e for e in day["exercises"] if e.exercise.slug == "heel-slides")
        assert slides.logged_sessions == 0


def test_today_crosses_midnight_for_one_patient_only(two_zones):
    auckland = two_zones["Pacific/Auckland"]
    quad = auckland.exercises.get(phase="rice", exercise__slug="quad-sets")
    record_log(quad, date(2026, 3, 11))
    # Two hours later it is 11:00 in Auckland, still 11 March; 12 hours later it is 12 March there.
    with time_machine.travel(INSTANT + timedelta(hours=2), tick=False):
        assert today_for_patient(patient=auckland.patient)["exercises"][0].logged_sessions == 1
    with time_machine.travel(INSTANT + timedelta(hours=16), tick=False):
        day = today_for_patient(patient=auckland.patient)
        assert day["date"] == date(2026, 3, 12)
        assert day["exercises"][0].logged_sessions == 0


def test_today_lists_only_active_started_plans_current_phase(physio, patient, meniscus):
    make_path(slug="hamstring-strain", name="Hamstring strain")
    with time_machine.travel(INSTANT, tick=False):
        menisc = plan_create(physiotherapist=physio, patient_id=patient.pk, condition_slug=meniscus.slug)
        plan_advance(plan=menisc, changed_by=physio)
        later = plan_create(physiotherapist=physio, patient_id=patient.pk, condition_slug="hamstring-strain",
                            start_date=date(2026, 3, 20))
        day = today_for_patient(patient=patient)
        assert [p.pk for p in day["plans"]] == [menisc.pk]
        assert [(e.plan_id, e.phase, e.exercise.slug) for e in day["exercises"]] == [
            (menisc.pk, PhaseKey.PHYSIOTHERAPY, "bridges")]
        with time_machine.travel(datetime(2026, 3, 20, 12, 0, tzinfo=UTC), tick=False):
            assert [p.pk for p in today_for_patient(patient=patient)["plans"]] == [menisc.pk, later.pk]
        plan_update(plan=menisc, changed_by=physio, data={"status": "paused"})
        assert today_for_patient(patient=patient) == {"date": date(2026, 3, 10), "plans": [], "exercises": [],
                                                      "safety_hold": None}


def test_plans_visible_to(physio, patient, meniscus):
    other_physio = PhysiotherapistFactory()
    other_patient = PatientFactory(physiotherapists=[other_physio])
    mine = plan_create(physiotherapist=physio, patient_id=patient.pk, condition_slug=meniscus.slug)
    theirs = plan_create(physiotherapist=other_physio, patient_id=other_patient.pk, condition_slug=meniscus.slug)
    assert list(plans_visible_to(user=physio)) == [mine]
    assert list(plans_visible_to(user=patient)) == [mine]
    assert list(plans_visible_to(user=other_patient)) == [theirs]
    # A second physiotherapist on the same patient sees that patient's plans too.
    other_physio.caseload.add(patient)
    assert set(plans_visible_to(user=other_physio)) == {mine, theirs}


def test_caseload_figures(physio, patient, meniscus):
    other_physio = PhysiotherapistFactory()
    PatientFactory(physiotherapists=[other_physio])  # not on this caseload
    quiet = PatientFactory(username="aaa-quiet", physiotherapists=[physio])
    with time_machine.travel(INSTANT, tick=False):
        plan = plan_create(physiotherapist=physio, patient_id=patient.pk, condition_slug=meniscus.slug,
                           start_date=date(2026, 3, 4))
        plan_update(plan=plan, changed_by=physio, data={"status": "paused"})
        first = record_checkin(patient, INSTANT - timedelta(days=2))
        last = record_checkin(patient, INSTANT - timedelta(hours=1))
        for checkin, physiotherapist, status in ((first, physio, AlertStatus.OPEN), (last, physio, AlertStatus.OPEN),
                                                 (last, other_physio, AlertStatus.OPEN)):
            Alert.objects.create(patient=patient, physiotherapist=physiotherapist, checkin=checkin, level="urgent",
                                 status=status)
        Alert.objects.filter(checkin=first).update(status=AlertStatus.ACKNOWLEDGED)
        rows = {p.username: p for p in caseload_list(physiotherapist=physio)}

    assert list(rows) == ["aaa-quiet", patient.username]
    row = rows[patient.username]
    assert (row.active_plan_id, row.active_plan_condition_slug, row.active_plan_condition_name,
            row.active_plan_phase, row.active_plan_status) == (
        plan.pk, "meniscus-tear", "Meniscus tear", "rice", "paused")
    assert row.last_checkin_at == last.recorded_at
    assert row.open_alert_count == 1  # only this physiotherapist's open alerts
    assert rows["aaa-quiet"].active_plan_id is None
    assert rows["aaa-quiet"].last_checkin_at is None
    assert rows["aaa-quiet"].open_alert_count == 0
    assert quiet.pk in {p.pk for p in rows.values()}


def test_caseload_adherence_uses_each_patients_own_week(two_zones):
    auckland, los_angeles = two_zones["Pacific/Auckland"], two_zones["America/Los_Angeles"]
    # Both plans started 9 March. Both rice exercises in full on each patient's 9 and 10 March.
    for plan in (auckland, los_angeles):
        for pe in plan.exercises.filter(phase="rice"):
            for day in (date(2026, 3, 9), date(2026, 3, 10)):
                for _ in range(pe.times_per_day):
                    record_log(pe, day)
    patients = [auckland.patient, los_angeles.patient]
    with time_machine.travel(INSTANT, tick=False):
        result = caseload_adherence(patients=patients)
    # Los Angeles: 9 and 10 March done, today (10th) included → 100%.
    assert result[los_angeles.patient_id] == 100.0
    # Auckland's today is 11 March, nothing logged yet: it is left out rather than counted as missed.
    assert result[auckland.patient_id] == 100.0
    with time_machine.travel(INSTANT + timedelta(days=1), tick=False):
        # A day later Auckland has missed all of 11 March: 2 of 3 days done.
        assert caseload_adherence(patients=patients)[auckland.patient_id] == pytest.approx(66.7)
