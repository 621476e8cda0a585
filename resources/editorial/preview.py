"""Staff previews: a resource exactly as the public would see it, and a guide body as it renders.

Both are for signed-in staff only, never cached and never indexed. The resource preview is the
one read of `Resource` outside the admin that does not go through `published()`: that is its
purpose, so it checks the admin's own permission first and marks every page as not public.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.widgets import AdminTextareaWidget
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import get_object_or_404, render
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from ..catalogue.views import detail_context, for_detail_page
from ..models import Resource
from ..text import render_markdown

# A long guide is a few thousand words; anything far beyond is a mistake or an attack on the
# Markdown parser, and is refused before it is parsed.
MARKDOWN_PREVIEW_MAX_CHARS = 100_000

NOINDEX = "noindex, nofollow"


def _is_staff_with(request: HttpRequest, *permissions: str) -> bool:
    """Signed in to the admin (second factor included, as the admin requires) and allowed."""
    return admin.site.has_permission(request) and any(
        request.user.has_perm(permission) for permission in permissions
    )


@never_cache
@require_safe
def resource_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """The public detail page of any resource, draft or not, with a "not public" banner."""
    if not _is_staff_with(request, "resources.view_resource"):
        # The same answer for every resource, existing or not: nothing leaks before login.
        return redirect_to_login(request.get_full_path(), reverse("admin:login"))
    resource = get_object_or_404(for_detail_page(Resource.objects.all()), pk=pk)
    context = {
        **detail_context(request, resource),
        "is_public": Resource.objects.published().filter(pk=resource.pk).exists(),
        "change_url": reverse("admin:resources_resource_change", args=[resource.pk]),
    }
    response = render(request, "resources/preview.html", context)
    response["X-Robots-Tag"] = NOINDEX
    return response


@never_cache
@require_POST
def markdown_preview(request: HttpRequest) -> HttpResponse:
    """A guide body rendered through the site's one sanitiser, for the change form's preview.

    POST (and so CSRF-protected), because the text is the editor's unsaved work.
    """
    if not _is_staff_with(request, "resources.change_resource", "resources.add_resource"):
        return HttpResponseForbidden(
            _("Only editors signed in to the admin can preview guides."),
            content_type="text/plain; charset=utf-8",
        )
    body = request.POST.get("body", "")
    if len(body) > MARKDOWN_PREVIEW_MAX_CHARS:
        return HttpResponse(
            _("This text is too long to preview (at most %(limit)d characters).")
            % {"limit": MARKDOWN_PREVIEW_MAX_CHARS},
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    response = HttpResponse(render_markdown(body), content_type="text/html; charset=utf-8")
    response["X-Robots-Tag"] = NOINDEX
    return response


class MarkdownPreviewTextarea(AdminTextareaWidget):
    """The admin's textarea plus a live preview pane, added by a script (no inline JS: CSP).

    Without JavaScript it is the plain textarea; the labels come from here so that they are
    translated like every other admin text.
    """

    class Media:
        js = ["js/admin-markdown-preview.js"]

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__(
            attrs={
                "data-markdown-preview-url": reverse_lazy("resources:preview-markdown"),
                "data-preview-heading": gettext_lazy("Preview: how the guide will look"),
                "data-preview-button": gettext_lazy("Update preview"),
                "data-preview-updated": gettext_lazy("Preview updated."),
                "data-preview-failed": gettext_lazy(
                    "The preview could not be updated. Your text is unchanged; try again."
                ),
                **(attrs or {}),
            }
        )
