from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from ..models import Device, Notification
from ..selectors import notifications_for
from ..services import device_register, notification_mark_read, notifications_mark_all_read
from .serializers import DeviceSerializer, NotificationSerializer


class NotificationViewSet(viewsets.ReadOnlyModelViewSet):
    """The signed-in user's in-app inbox, newest first."""

    serializer_class = NotificationSerializer
    filterset_fields = ["kind"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Notification.objects.none()
        unread = self.request.query_params.get("unread") in ("1", "true", "yes")
        return notifications_for(user=self.request.user, unread_only=unread)

    @extend_schema(parameters=[OpenApiParameter("unread", bool, description="Only unread items")])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        """Mark one item as read."""
        return Response(NotificationSerializer(notification_mark_read(notification=self.get_object())).data)

    @extend_schema(request=None, responses={200: {"type": "object", "properties": {"marked": {"type": "integer"}}}})
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        """Mark every item as read."""
        return Response({"marked": notifications_mark_all_read(user=request.user)})


class DeviceViewSet(mixins.CreateModelMixin, mixins.ListModelMixin, mixins.DestroyModelMixin,
                    viewsets.GenericViewSet):
    """Mobile devices registered for push notifications."""

    serializer_class = DeviceSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Device.objects.none()
        return Device.objects.filter(user=self.request.user).order_by("-created_at", "-id")

    @extend_schema(responses={201: DeviceSerializer, 200: DeviceSerializer},
                   description="201 when you register a token for the first time; 200 when you had registered "
                               "it already. Whether another account holds the same token changes nothing: "
                               "a token never moves between accounts.")
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        device, created = device_register(user=request.user, token=serializer.validated_data["token"],
                                          platform=serializer.validated_data["platform"])
        return Response(DeviceSerializer(device).data,
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)
