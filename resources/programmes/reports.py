""" "Report a problem with this listing": the one public form that takes a POST.

Its page is the only public page that sets a cookie (the CSRF cookie, only here), so the
programme and resource pages it is linked from stay cookie-free and cacheable. Spam and abuse:
a honeypot field, length limits, and at most `REPORTS_PER_HOUR` reports an hour from one
address — counted in the cache under a salted hash of the address (salt: the secret key and the
day), never the address itself, and never in the database.
"""

from __future__ import annotations

import hashlib
import hmac

from django import forms
from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect, ensure_csrf_cookie
from django.views.decorators.http import require_http_methods

from hub.auth import client_ip
from resources.models import ProblemReport, Programme, Resource

REPORTS_PER_HOUR = 5


class ReportForm(forms.Form):
    message = forms.CharField(
        label=_("What is wrong?"),
        help_text=_("For example: the phone number has changed, or the programme has stopped."),
        min_length=10,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 5, "maxlength": 2000}),
    )
    contact = forms.CharField(
        label=_("Your e-mail or phone, if we may ask you about it (optional)"),
        required=False,
        max_length=200,
    )
    # Hidden from people (CSS and aria-hidden); bots that fill every field fill it too.
    website = forms.CharField(required=False, max_length=200)


def _address_key(request: HttpRequest) -> str:
    address = client_ip(request) or "unknown"
    salt = f"{settings.SECRET_KEY}:{timezone.localdate().isoformat()}".encode()
    digest = hmac.new(salt, address.encode(), hashlib.sha256).hexdigest()
    return f"hub.report-rate.{digest}"


def _allowed(request: HttpRequest) -> bool:
    """Count this report against the address's hourly allowance; False when it is used up."""
    key = _address_key(request)
    if cache.add(key, 1, timeout=3600):
        return True
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.add(key, 1, timeout=3600)
        return True
    return count <= REPORTS_PER_HOUR


def _subject(kind: str, slug: str) -> Programme | Resource:
    if kind == "programme":
        return get_object_or_404(Programme.objects.published(), slug=slug)
    if kind == "resource":
        return get_object_or_404(Resource.objects.published(), slug=slug)
    raise Http404


@never_cache
@ensure_csrf_cookie
@csrf_protect
@require_http_methods(["GET", "HEAD", "POST"])
def report_problem(request: HttpRequest, kind: str, slug: str) -> HttpResponse:
    subject = _subject(kind, slug)
    status = 200
    if request.method == "POST":
        form = ReportForm(request.POST)
        if form.is_valid():
            if form.cleaned_data["website"]:
                # A bot: say thanks, keep nothing.
                return HttpResponseRedirect(f"{request.path}?sent=1")
            if not _allowed(request):
                form.add_error(
                    None,
                    _("Thank you, but we have had many reports from here. Please try again later."),
                )
                status = 429
            else:
                ProblemReport.objects.create(
                    **{kind: subject},
                    message=form.cleaned_data["message"],
                    contact=form.cleaned_data["contact"],
                )
                return HttpResponseRedirect(f"{request.path}?sent=1")
        else:
            status = 400
    else:
        form = ReportForm()
    context = {
        "form": form,
        "subject": subject,
        "subject_name": subject.name if kind == "programme" else subject.title,
        "sent": request.GET.get("sent") == "1" and request.method != "POST",
    }
    return render(request, "resources/programmes/report.html", context, status=status)
