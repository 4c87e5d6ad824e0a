"""Pages every signed-in user has: the home redirect and the inbox."""
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from kneerehab.notifications.selectors import notifications_for
from kneerehab.notifications.services import notification_mark_read, notifications_mark_all_read
from kneerehab.web.htmx import is_htmx

from ..links import web_destination

INBOX_PAGE_SIZE = 25


@login_required
def home(request):
    """Each role starts where their work is: physiotherapists at the caseload, patients at today's plan."""
    if request.user.is_physiotherapist:
        return redirect("web:caseload")
    if request.user.is_staff:  # staff work in the admin (their role field is the default, patient)
        return redirect("admin:index")
    return redirect("web:today")


@login_required
def inbox(request):
    page = Paginator(notifications_for(user=request.user), INBOX_PAGE_SIZE).get_page(request.GET.get("page"))
    unread = notifications_for(user=request.user, unread_only=True).count()
    return render(request, "web/inbox.html", {"page": page, "unread_count": unread})


@login_required
@require_POST
def notification_read(request, notification_id: int):
    notification = get_object_or_404(notifications_for(user=request.user), pk=notification_id)
    notification_mark_read(notification=notification)
    if is_htmx(request):
        return render(request, "web/partials/notification.html", {"notification": notification})
    return redirect("web:inbox")


@login_required
@require_http_methods(["GET", "POST"])
def notification_open(request, notification_id: int):
    """Follow a notification to its page; a POST (the inbox's Open button) marks it read on the way.

    A GET only follows the link: a prefetching browser or a link checker must not mark anything read.
    """
    notification = get_object_or_404(notifications_for(user=request.user), pk=notification_id)
    if request.method == "POST":
        notification_mark_read(notification=notification)
    return redirect(web_destination(link=notification.link, user=request.user))


@login_required
@require_POST
def notifications_read_all(request):
    notifications_mark_all_read(user=request.user)
    return redirect("web:inbox")
