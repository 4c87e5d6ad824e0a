"""Reads on accounts and caseloads."""
from django.db.models import QuerySet

from .models import Role, User


def patients_visible_to(*, user: User) -> QuerySet[User]:
    """The patients whose health data `user` may see: their own caseload, or themselves."""
    if user.is_physiotherapist:
        return User.objects.filter(role=Role.PATIENT, physiotherapists=user)
    if user.is_patient:
        return User.objects.filter(pk=user.pk)
    return User.objects.none()


def is_on_caseload(*, physiotherapist: User, patient_id: int) -> bool:
    return physiotherapist.is_physiotherapist and physiotherapist.caseload.filter(pk=patient_id).exists()
