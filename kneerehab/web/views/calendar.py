"""The patient's calendar subscription: make a secret feed URL (shown once), or turn it off."""
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from plans.models import CalendarFeed
from plans.services import calendar_feed_create, calendar_feed_revoke

from ..access import patient_required


@patient_required
def calendar_page(request):
    feed = CalendarFeed.objects.filter(patient=request.user, revoked_at__isnull=True).first()
    return render(request, "web/calendar.html", {"feed": feed})


@patient_required
@require_POST
def calendar_create(request):
    feed, token = calendar_feed_create(patient=request.user)
    url = request.build_absolute_uri(reverse("calendar-feed-ics", kwargs={"token": token}))
    # Shown on this answer only: the secret is not stored, so it cannot be shown again later.
    return render(request, "web/calendar.html", {
        "feed": feed, "new_url": url, "webcal_url": "webcal://" + url.split("://", 1)[1]})


@patient_required
@require_POST
def calendar_revoke(request):
    if calendar_feed_revoke(patient=request.user):
        messages.success(request, "Your calendar link is off. Calendars subscribed to it stop updating.")
    return redirect("web:calendar")
