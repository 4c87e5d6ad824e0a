from rest_framework.routers import SimpleRouter

from .views import ConditionViewSet, ExerciseViewSet

router = SimpleRouter()
router.register("conditions", ConditionViewSet, basename="condition")
router.register("exercises", ExerciseViewSet, basename="exercise")

urlpatterns = router.urls
