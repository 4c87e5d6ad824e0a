from rest_framework.permissions import SAFE_METHODS, BasePermission


class PatientWritesOwn(BasePermission):
    """Anyone signed in reads (the queryset limits what); only patients write, and only their own records."""

    message = "Only patients can record this."

    def has_permission(self, request, view):
        return request.method in SAFE_METHODS or request.user.is_patient


class IsPatient(BasePermission):
    message = "This is the patient's view; physiotherapists use /api/v1/patients/{id}/progress/."

    def has_permission(self, request, view):
        return request.user.is_patient


class IsPhysiotherapist(BasePermission):
    message = "Only physiotherapists can do this."

    def has_permission(self, request, view):
        return request.user.is_physiotherapist
