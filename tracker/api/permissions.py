"""Permissions of the tracker's API views beyond the shared roles (kneerehab.api.permissions)."""
from kneerehab.api.permissions import IsPatient


class IsPatientOwnProgress(IsPatient):
    message = "This is the patient's view; physiotherapists use /api/v1/patients/{id}/progress/."
