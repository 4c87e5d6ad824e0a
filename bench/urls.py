"""The project's URLs plus /bench/baseline/, a view that does nothing but answer.

It runs through the same middleware stack as every other request, so the ratio
of an endpoint's throughput to this one's says what the endpoint itself costs.
"""
from django.http import JsonResponse
from django.urls import path

from kneerehab.urls import handler400, handler403, handler404, handler500
from kneerehab.urls import urlpatterns as project_urlpatterns

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]


def baseline(request):
    return JsonResponse({"ok": True})


urlpatterns = [path("bench/baseline/", baseline), *project_urlpatterns]
