"""Two patients on two caseloads, each with a plan and health data that carries a private marker.

Alice is on physio A's caseload, Bob on physio B's. Every piece of Alice's data
carries her marker (in notes, titles, tokens), and likewise for Bob, so a test
can search a whole response body for data it must never contain. The rows are
made with the models directly: the authorization tests must not depend on the
services they are checking.
"""
import dataclasses
import datetime as dt
import io

from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image

from conditions.models import Condition, Exercise, ExerciseMedia, PhaseExercise, PhaseKey, TreatmentPhase
from kneerehab.notifications.models import Device, Notification
from plans.calendar import token_hash
from plans.models import (
    CalendarFeed,
    PhaseChange,
    Plan,
    PlanExercise,
    PlanExerciseMedia,
    ReminderDelivery,
    SafetyHold,
)
from tests.factories import PASSWORD, PatientFactory, PhysiotherapistFactory
from tracker.models import Alert, CheckIn, ExerciseLog, PromptLevel

ACTORS = ("anonymous", "patient_own", "patient_other", "physio_caseload", "physio_other", "staff")

EXERCISES = {
    PhaseKey.RICE: ["sec-quad-sets", "sec-heel-slides"],
    PhaseKey.PHYSIOTHERAPY: ["sec-bridges"],
    PhaseKey.RETURN_TO_ACTIVITY: ["sec-mini-squats"],
}


def make_condition(slug: str, name: str, *, home_care: bool = True) -> Condition:
    """A condition with a complete three-phase path (a plan can be assigned for it)."""
    condition = Condition.objects.create(
        slug=slug, name=name, summary=f"{name}: pain behind the knee.", causes=["overuse"], symptoms=["pain"],
        typical_recovery="A few weeks.", recovery_weeks_min=2, recovery_weeks_max=6, home_care=home_care,
        red_flags=[{"text": "Fever", "asks": ["fever"]}],
    )
    if not home_care:
        return condition
    for order, key in enumerate(PhaseKey.ordered()):
        phase = TreatmentPhase.objects.create(
            condition=condition, key=key, order=order, name=PhaseKey(key).label, goals=["settle the knee"],
            duration_days_min=3, duration_days_max=14,
        )
        for position, slug_ in enumerate(EXERCISES[key]):
            exercise, _ = Exercise.objects.get_or_create(
                slug=slug_, defaults={"name": slug_.replace("-", " "), "body_area": "knee",
                                      "instructions": "Slowly, ten times.", "stop_if": "Sharp pain."},
            )
            PhaseExercise.objects.create(phase=phase, exercise=exercise, order=position)
    return condition


@dataclasses.dataclass
class PatientData:
    user: object
    marker: str
    plan: Plan
    plan_exercise: PlanExercise
    checkin: CheckIn
    exercise_log: ExerciseLog
    alert: Alert
    notification: Notification
    device: Device
    reminder: ReminderDelivery
    # A picture their physiotherapist added to the exercise in the library, and one for their plan alone.
    library_media: ExerciseMedia
    plan_media: PlanExerciseMedia
    # The secret of their calendar feed URL.
    calendar_token: str

    def markers(self) -> set[str]:
        return {self.user.username, self.user.email, self.marker}


def make_patient_data(*, username: str, physio, condition: Condition) -> PatientData:
    marker = f"private-note-of-{username}"
    user = PatientFactory(username=username, email=f"{username}@example.org", physiotherapists=[physio])
    now = timezone.now()
    # In the middle phase, so that both advancing and stepping back are possible moves.
    plan = Plan.objects.create(
        patient=user, physiotherapist=physio, condition=condition, start_date=now.date() - dt.timedelta(days=10),
        current_phase=PhaseKey.PHYSIOTHERAPY, phase_started_at=now - dt.timedelta(days=3),
        reminder_times=["08:00"],
    )
    plan_exercises = []
    for phase_exercise in PhaseExercise.objects.filter(phase__condition=condition).select_related("phase"):
        plan_exercises.append(PlanExercise.objects.create(
            plan=plan, phase=phase_exercise.phase.key, exercise=phase_exercise.exercise,
            order=phase_exercise.order, **phase_exercise.dose(),
        ))
    current = next(pe for pe in plan_exercises if pe.phase == PhaseKey.PHYSIOTHERAPY)
    PhaseChange.objects.create(plan=plan, kind="start", to_phase=PhaseKey.RICE, changed_by=physio,
                               reason=f"started; {marker}")
    PhaseChange.objects.create(plan=plan, kind="advance", from_phase=PhaseKey.RICE, to_phase=PhaseKey.PHYSIOTHERAPY,
                               changed_by=physio, reason=f"settled; {marker}")
    checkin = CheckIn.objects.create(
        patient=user, plan=plan, recorded_at=now - dt.timedelta(hours=2), pain_at_rest=7, pain_during_activity=8,
        swelling="moderate", fever=True, notes=marker, prompt_level=PromptLevel.URGENT,
        prompt={"level": "urgent", "message": f"Get medical attention today ({marker}).",
                "reasons": [{"code": "fever", "message": "You reported a fever."}]},
    )
    alert = Alert.objects.create(patient=user, physiotherapist=physio, checkin=checkin, level=PromptLevel.URGENT,
                                 reasons=[{"code": "fever", "message": f"Fever ({marker})"}])
    exercise_log = ExerciseLog.objects.create(
        patient=user, plan_exercise=current, date=now.date(), sets_done=2, reps_done=10, pain_during=3, notes=marker,
    )
    notification = Notification.objects.create(recipient=user, kind="prompt", title=f"Prompt for {marker}",
                                               body=f"Body of {marker}")
    Notification.objects.create(recipient=physio, kind="alert", title=f"Alert about {username}",
                                body=f"{username} reported: {marker}")
    device = Device.objects.create(user=user, token=f"device-token-{marker}", platform="ios")
    reminder = ReminderDelivery.objects.create(plan=plan, local_date=now.date(), slot="08:00", due_at=now,
                                               status="sent", sent_at=now)
    library_media = _with_picture(ExerciseMedia(exercise=current.exercise, uploaded_by=physio,
                                                title=f"Library picture ({marker})"))
    plan_media = _with_picture(PlanExerciseMedia(plan_exercise=current, uploaded_by=physio,
                                                 title=f"Plan picture ({marker})"))
    calendar_token = f"calendar-token-{username.replace('_', '-')}"
    CalendarFeed.objects.create(patient=user, token_hash=token_hash(calendar_token))
    return PatientData(user=user, marker=marker, plan=plan, plan_exercise=current, checkin=checkin,
                       exercise_log=exercise_log, alert=alert, notification=notification, device=device,
                       reminder=reminder, library_media=library_media, plan_media=plan_media,
                       calendar_token=calendar_token)


def _with_picture(media):
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (120, 30, 30)).save(out, format="PNG")
    media.kind, media.content_type, media.size_bytes, media.width, media.height = "image", "image/png", 0, 8, 8
    media.file.save("picture.png", ContentFile(out.getvalue()), save=False)
    media.save()
    return media


@dataclasses.dataclass
class World:
    physio_a: object
    physio_b: object
    staff: object
    alice: PatientData
    bob: PatientData
    condition: Condition
    free_condition: Condition
    # A second plan of Alice's, on a safety hold after an urgent prompt (for clearing the hold).
    held_plan: Plan
    password: str = PASSWORD

    def user_for(self, actor: str):
        return {
            "anonymous": None,
            "patient_own": self.alice.user,
            "patient_other": self.bob.user,
            "physio_caseload": self.physio_a,
            "physio_other": self.physio_b,
            "staff": self.staff,
        }[actor]

    def forbidden_markers(self, actor: str) -> set[str]:
        """What must never appear in a response to `actor`: the data of patients it may not see."""
        alice = self.alice.markers() | {self.physio_a.username}
        bob = self.bob.markers() | {self.physio_b.username}
        return {
            "anonymous": alice | bob,
            "patient_own": bob,
            "patient_other": alice,
            "physio_caseload": bob,
            "physio_other": alice,
            "staff": alice | bob,
        }[actor]


def build_world() -> World:
    condition = make_condition("sec-meniscus-tear", "Meniscus tear (security tests)")
    free_condition = make_condition("sec-hamstring-strain", "Hamstring strain (security tests)")
    physio_a = PhysiotherapistFactory(username="physio_anna_3k")
    physio_b = PhysiotherapistFactory(username="physio_boris_8w")
    # Staff work in the admin; the flags must not widen what the API shows them.
    staff = PhysiotherapistFactory(username="staff_sven_5t", is_staff=True, is_superuser=True)
    alice = make_patient_data(username="patient_alice_x7", physio=physio_a, condition=condition)
    bob = make_patient_data(username="patient_bob_q9", physio=physio_b, condition=condition)
    held_plan = Plan.objects.create(
        patient=alice.user, physiotherapist=physio_a, condition=make_condition("sec-calf-strain", "Calf strain (sec)"),
        start_date=alice.plan.start_date, phase_started_at=alice.plan.phase_started_at, reminder_times=["08:00"],
    )
    SafetyHold.objects.create(plan=held_plan, level="urgent", checkin=alice.checkin,
                              reasons=alice.checkin.prompt["reasons"],
                              advice=f"Stop your exercises ({alice.marker}).")
    return World(physio_a=physio_a, physio_b=physio_b, staff=staff, alice=alice, bob=bob, condition=condition,
                 free_condition=free_condition, held_plan=held_plan)
