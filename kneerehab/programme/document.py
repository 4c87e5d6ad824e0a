"""The programme as a PDF: a Django template rendered by WeasyPrint (HTML and CSS through Debian's Pango).

Pictures and the QR code are inlined as data URIs, and the URL fetcher refuses everything else, so rendering
never reaches the network or the file system, whatever a text in the plan contains.
"""
import base64
import io
from datetime import date, timedelta

import qrcode
import qrcode.image.pil
from django.template.loader import render_to_string
from django.utils import timezone
from PIL import ImageFile
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from conditions.models import PhaseKey, TreatmentPhase
from kneerehab.media.inspection import MediaKind
from kneerehab.users.emergency import emergency_number_for
from plans.models import Plan, SafetyHold
from plans.selectors import media_for_plan_exercise
from tracker.help_card import help_card
from tracker.rules import RECENT_SURGERY_DAYS

# WeasyPrint switches Pillow, process-wide, to accepting truncated pictures when it is imported; that would let
# a cut-off upload through the content check (kneerehab.media.inspection). Every picture the programme embeds
# was decoded in full at upload, so nothing here needs the leniency.
ImageFile.LOAD_TRUNCATED_IMAGES = False

WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def programme_pdf(*, plan: Plan, checkin_url: str, today: date | None = None) -> bytes:
    """The plan's current phase on paper. `plan` comes from plans.selectors.plan_list (exercises prefetched)."""
    return HTML(string=programme_html(plan=plan, checkin_url=checkin_url, today=today),
                url_fetcher=URLFetcher(allowed_protocols={"data"})).write_pdf()


def programme_html(*, plan: Plan, checkin_url: str, today: date | None = None) -> str:
    patient = plan.patient
    today = today or timezone.now().astimezone(patient.tzinfo).date()
    phase = TreatmentPhase.objects.filter(condition=plan.condition_id, key=plan.current_phase).first()
    exercises = [pe for pe in plan.exercises.all() if pe.phase == plan.current_phase]
    recent_surgery = plan.surgery_date is not None and today - plan.surgery_date <= timedelta(
        days=RECENT_SURGERY_DAYS)
    context = {
        "plan": plan,
        "patient": patient,
        "physiotherapist": plan.physiotherapist,
        # No clinic yet: the header shows the patient and the physiotherapist; the clinic joins when it exists.
        "phase_label": PhaseKey(plan.current_phase).label,
        "phase": phase,
        # On a safety hold the patient is told to stop the exercises: the paper says so above them, as Today does.
        "safety_hold": SafetyHold.objects.filter(plan=plan, cleared_at__isnull=True).first(),
        "printed_on": today,
        "exercises": [{"item": pe, "picture": _first_picture(pe, plan)} for pe in exercises],
        "weekdays": WEEKDAYS,
        "card": help_card(immunosuppressed=plan.immunosuppressed, recent_surgery=recent_surgery,
                          clot_risk=bool(plan.clot_risk_factors) or recent_surgery),
        # The patient's country's number (else their time zone's, else 112), as the check-in prompts say it.
        "emergency": emergency_number_for(patient),
        "checkin_url": checkin_url,
        "checkin_qr": _qr_data_uri(checkin_url),
    }
    return render_to_string("programme/programme.html", context)


def _first_picture(plan_exercise, plan: Plan) -> str | None:
    for media in media_for_plan_exercise(plan_exercise, physiotherapist_id=plan.physiotherapist_id):
        if media.kind == MediaKind.IMAGE:
            field = media.thumbnail or media.file
            with field.open("rb") as stored:
                encoded = base64.b64encode(stored.read()).decode()
            return f"data:{media.content_type};base64,{encoded}"
    return None


def _qr_data_uri(url: str) -> str:
    image = qrcode.make(url, image_factory=qrcode.image.pil.PilImage, box_size=8, border=2)
    out = io.BytesIO()
    image.save(out)
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()

