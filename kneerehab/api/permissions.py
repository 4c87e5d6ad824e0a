"""Role permissions for the API views of every app (one definition each)."""
from rest_framework.permissions import SAFE_METHODS, BasePermission


def _signed_in(request) -> bool:
    return bool(request.user and request.user.is_authenticated)


class IsPhysiotherapist(BasePermission):
    message = "Only a physiotherapist can do this."

    def has_permission(self, request, view):
        return _signed_in(request) and request.user.is_physiotherapist


class IsPatient(BasePermission):
    message = "Only a patient can do this."

    def has_permission(self, request, view):
        return _signed_in(request) and request.user.is_patient


class PhysiotherapistWritesPatientReads(BasePermission):
    """Both roles read (each within their own scope); only a physiotherapist changes anything."""

    message = "Only a physiotherapist can change this."

    def has_permission(self, request, view):
        if not _signed_in(request):
            return False
        if request.method in SAFE_METHODS:
            return request.user.is_physiotherapist or request.user.is_patient
        return request.user.is_physiotherapist


class PatientWritesOwn(BasePermission):
    """Anyone signed in reads (the queryset limits what); only patients write, and only their own records."""

    message = "Only a patient can record this."

    def has_permission(self, request, view):
        return _signed_in(request) and (request.method in SAFE_METHODS or request.user.is_patient)
