from rest_framework.permissions import SAFE_METHODS, BasePermission


class IsPhysiotherapist(BasePermission):
    message = "Only a physiotherapist can do this."

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.is_physiotherapist)


class IsPatient(BasePermission):
    message = "Only a patient can do this."

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.is_patient)


class PhysiotherapistWritesPatientReads(BasePermission):
    """Both roles read (each within their own scope); only a physiotherapist changes anything."""

    message = "Only a physiotherapist can change plans."

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if request.method in SAFE_METHODS:
            return user.is_physiotherapist or user.is_patient
        return user.is_physiotherapist
