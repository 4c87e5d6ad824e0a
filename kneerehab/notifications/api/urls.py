from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("notifications", views.NotificationViewSet, basename="notification")
router.register("devices", views.DeviceViewSet, basename="device")

urlpatterns = router.urls
