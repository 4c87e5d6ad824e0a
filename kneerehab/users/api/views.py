from axes.handlers.proxy import AxesProxyHandler
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt import views as jwt_views

from kneerehab.throttling import LoginRateThrottle

from ..lockout import lockout_response
from ..privacy import patient_data_export, patient_erase
from ..services import user_update_profile
from ..tokens import TokenRefreshSerializer
from .serializers import CredentialsShapeSerializer, EraseSerializer, MeSerializer


class MeView(APIView):
    """The signed-in user: who they are, their role and their time zone."""

    serializer_class = MeSerializer

    @extend_schema(responses=MeSerializer)
    def get(self, request):
        return Response(MeSerializer(request.user).data)

    @extend_schema(request=MeSerializer, responses=MeSerializer)
    def patch(self, request):
        serializer = MeSerializer(request.user, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        user = user_update_profile(user=request.user, data=serializer.validated_data)
        return Response(MeSerializer(user).data)


class LockoutAwareMixin:
    """Answers 429 with a clear message while django-axes holds the account locked."""

    def post(self, request, *args, **kwargs):
        # Always a dict: given None, axes reads request.data itself and fails on a JSON list or number (500).
        username = request.data.get("username") if isinstance(request.data, dict) else None
        if username is not None:
            # Before axes stores it: a NUL or an over-long name failed its insert on PostgreSQL (a 500).
            username = CredentialsShapeSerializer(data={"username": username}).validated_username()
        credentials = {"username": username}
        if not AxesProxyHandler.is_allowed(request, credentials=credentials):
            return lockout_response(request, credentials)
        return super().post(request, *args, **kwargs)


class TokenObtainPairView(LockoutAwareMixin, jwt_views.TokenObtainPairView):
    """Exchange a username and password for an `access` and a `refresh` token."""

    throttle_classes = [LoginRateThrottle]


class TokenRefreshView(jwt_views.TokenRefreshView):
    """Exchange a refresh token for a new pair; the old refresh token stops working."""

    throttle_classes = [LoginRateThrottle]
    serializer_class = TokenRefreshSerializer


class TokenBlacklistView(jwt_views.TokenBlacklistView):
    """Log out: the refresh token sent is revoked."""


class ExportView(APIView):
    """A patient downloads everything kneerehab holds about them, as JSON."""

    @extend_schema(responses={200: {"type": "object", "description": "profile, plans, checkins, "
                                    "exercise_logs, alerts, notifications, devices"}})
    def get(self, request):
        data = patient_data_export(patient=request.user, request=request)
        response = Response(data)
        response["Content-Disposition"] = f'attachment; filename="kneerehab-{request.user.username}.json"'
        return response


class EraseView(APIView):
    """A patient erases their health data; the account is anonymised and can no longer sign in."""

    @extend_schema(request=EraseSerializer, responses={200: {"type": "object", "properties": {
        "erased": {"type": "object", "additionalProperties": {"type": "integer"}}}}})
    def post(self, request):
        serializer = EraseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        counts = patient_erase(patient=request.user, password=serializer.validated_data["password"], request=request)
        return Response({"erased": counts})
