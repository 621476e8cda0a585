"""`{% resource_image resource "card" %}`: a resource's picture, from its rendition if made."""

from __future__ import annotations

from typing import Any

from django import template

from resources.editorial.images import size_from_name
from resources.models import Resource

register = template.Library()


@register.inclusion_tag("includes/resource_image.html")
def resource_image(resource: Resource, rendition: str) -> dict[str, Any]:
    """The rendition's address and size, read from its generated name (no file is opened).

    Without a rendition (an image stored before renditions existed) the original is shown,
    without width and height: a wrong size would distort it, a missing one only shifts layout.
    """
    file = getattr(resource, f"image_{rendition}", None) or resource.image
    size = size_from_name(file) if file else None
    return {
        "src": file.url if file else "",
        "width": size[0] if size else None,
        "height": size[1] if size else None,
        "alt": resource.image_alt,
        "lazy": rendition == "card",
        "css_class": f"resource-image resource-image-{rendition}",
    }
