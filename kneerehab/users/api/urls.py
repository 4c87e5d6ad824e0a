from django.urls import path

from . import views

urlpatterns = [
    path("auth/token/", views.TokenObtainPairView.as_view(), name="token_obtain_pair"),
    path("auth/token/refresh/", views.TokenRefreshView.as_view(), name="token_refresh"),
    path("auth/logout/", views.TokenBlacklistView.as_view(), name="token_logout"),
    path("me/", views.MeView.as_view(), name="me"),
    path("me/export/", views.ExportView.as_view(), name="me-export"),
    path("me/erase/", views.EraseView.as_view(), name="me-erase"),
]
