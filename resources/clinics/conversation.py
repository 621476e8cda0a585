"""The conversation guide for clinicians (README "For clinics"): how to raise physical
activity with a person living with metastatic breast cancer in one, three or more minutes.

A static page in six languages, no database query: it is cached like the other public pages
(hub/cache.py CACHED_VIEWS). Its texts still need clinical review, and say so.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe


@require_safe
def conversation_guide(request: HttpRequest) -> HttpResponse:
    return render(request, "resources/conversation.html")
