"""The patient's calendar feed: making and revoking its secret URL, and the feed itself."""
from django.http import Http404, HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from kneerehab.api.permissions import IsPatient

from ..calendar import feed_for_token, sessions_calendar
from ..models import CalendarFeed
from ..services import calendar_feed_create, calendar_feed_revoke


class CalendarFeedStateSerializer(serializers.Serializer):
    active = serializers.BooleanField(help_text="Whether a feed URL is live (the URL itself is shown only once).")
    created_at = serializers.DateTimeField(allow_null=True)


class CalendarFeedCreatedSerializer(serializers.Serializer):
    url = serializers.URLField(help_text="The secret feed URL: anyone who has it sees the session times.")
    webcal_url = serializers.CharField(help_text="The same URL for a phone's calendar (webcal://).")
    created_at = serializers.DateTimeField()


class CalendarFeedView(APIView):
    """The caller's own feed URL: see whether one is live, make a new one (the old one stops), or turn it off."""

    permission_classes = [IsPatient]

    @extend_schema(summary="Whether your calendar feed is on", responses=CalendarFeedStateSerializer)
    def get(self, request):
        feed = CalendarFeed.objects.filter(patient=request.user, revoked_at__isnull=True).first()
        return Response({"active": feed is not None, "created_at": feed.created_at if feed else None})

    @extend_schema(summary="Make a new calendar feed URL (the previous one stops working)", request=None,
                   responses={201: CalendarFeedCreatedSerializer})
    def post(self, request):
        feed, token = calendar_feed_create(patient=request.user)
        url = request.build_absolute_uri(reverse("calendar-feed-ics", kwargs={"token": token}))
        return Response({"url": url, "webcal_url": "webcal://" + url.split("://", 1)[1],
                         "created_at": feed.created_at}, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Turn your calendar feed off (its URL answers 404 from now on)", request=None,
                   responses={204: None})
    def delete(self, request):
        calendar_feed_revoke(patient=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ICalendarRenderer(BaseRenderer):
    """Lets a calendar app that asks for text/calendar only get past content negotiation (the feed itself is a
    ready HttpResponse); an error still goes out as the one JSON error body."""

    media_type = "text/calendar"
    format = "ics"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, bytes) else JSONRenderer().render(data)


class CalendarFeedIcsView(APIView):
    """The feed: no sign-in (a phone's calendar cannot), the secret in the URL is the credential."""

    permission_classes = [AllowAny]
    authentication_classes = []
    renderer_classes = [JSONRenderer, ICalendarRenderer]

    def handle_exception(self, exc):
        # An error is the one JSON error body, labelled as JSON whatever format the caller asked for.
        response = super().handle_exception(exc)
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return response

    @extend_schema(summary="The calendar feed (iCalendar) of a secret URL", auth=[], operation_id="calendar_feed_ics",
                   responses={(200, "text/calendar"): OpenApiTypes.BINARY,
                              404: OpenApiResponse(description="No such feed, or it was revoked.")})
    def get(self, request, token: str):
        feed = feed_for_token(token)
        if feed is None:
            raise Http404
        body = sessions_calendar(patient=feed.patient,
                                 checkin_url=request.build_absolute_uri(reverse("web:checkin")))
        response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
        response["Content-Disposition"] = 'inline; filename="knee-exercises.ics"'
        response["Cache-Control"] = "private, max-age=900"
        return response
