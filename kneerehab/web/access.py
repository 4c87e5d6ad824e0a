"""Who may open which page: the same scoping as the API (another patient's page is a 404, never the data)."""
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from kneerehab.users.models import User
from kneerehab.users.selectors import patients_visible_to


def _role_required(check):
    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            # A page for the other role is a role-forbidden action: 403, as in the API.
            if not check(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


physiotherapist_required = _role_required(lambda user: user.is_physiotherapist)
patient_required = _role_required(lambda user: user.is_patient)


def visible_patient_or_404(*, user: User, patient_id: int) -> User:
    """A patient on `user`'s caseload (or `user` themselves); anyone else is not found."""
    return get_object_or_404(patients_visible_to(user=user), pk=patient_id)
