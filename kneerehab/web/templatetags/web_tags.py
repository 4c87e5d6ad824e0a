from django import template

from conditions.models import PhaseKey
from kneerehab.notifications.selectors import notifications_for
from plans.models import PhaseChangeKind
from tracker.models import PromptLevel

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_notifications(context) -> int:
    """How many inbox items the signed-in user has not read (one COUNT query per page)."""
    user = context["request"].user
    if not user.is_authenticated:
        return 0
    return notifications_for(user=user, unread_only=True).count()


@register.simple_tag(takes_context=True)
def current(context, *url_names: str) -> str:
    """aria-current for the navigation link of the page being shown."""
    match = context["request"].resolver_match
    if match and match.url_name in url_names:
        return 'aria-current="page"'
    return ""


@register.filter
def phase_label(key: str) -> str:
    """"physiotherapy" → "Physiotherapy", as the catalogue names the phases."""
    try:
        return PhaseKey(key).label
    except ValueError:
        return key or ""


@register.filter
def level_label(level: str) -> str:
    try:
        return PromptLevel(level).label
    except ValueError:
        return level or ""


@register.filter
def change_kind_label(kind: str) -> str:
    try:
        return PhaseChangeKind(kind).label
    except ValueError:
        return kind or ""


@register.filter
def yes_answers(checkin) -> list[dict]:
    """The questions of a check-in answered yes ([] without a check-in)."""
    from tracker.selectors import answered_yes

    return answered_yes(checkin) if checkin is not None else []


@register.filter
def emergency_link(prompt) -> dict:
    """The tap-to-call number of a stored prompt; prompts stored before it existed get the fallback."""
    from kneerehab.users.emergency import FALLBACK_NUMBER, EmergencyNumber

    number = (prompt or {}).get("emergency_number") if isinstance(prompt, dict) else None
    return number or EmergencyNumber(number=FALLBACK_NUMBER, country="").as_dict()


@register.simple_tag
def alert_outcomes() -> list[tuple[str, str]]:
    """What a clinician may record when acknowledging an alert."""
    from tracker.models import AlertOutcome

    return list(AlertOutcome.choices)

