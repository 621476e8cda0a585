"""`manage.py make_renditions`: card and detail renditions for images stored without them.

Uploads through the admin get their renditions when they are saved. Images that arrived
another way (stored before renditions existed, or written into the database by an import)
show their full-size original until this command has run; it is safe to run again.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand
from django.db.models import Q

from resources.editorial.images import add_missing_renditions
from resources.models import Resource


class Command(BaseCommand):
    help = "Make the missing WebP renditions of resource images (never in a page request)."

    def handle(self, *args: object, **options: object) -> None:
        made = refused = 0
        missing = Resource.objects.exclude(image="").filter(Q(image_card="") | Q(image_detail=""))
        for resource in missing.order_by("pk"):
            try:
                if add_missing_renditions(resource):
                    made += 1
            except (ValidationError, OSError) as error:
                refused += 1
                reason = " ".join(getattr(error, "messages", [str(error)]))
                self.stderr.write(f"{resource.slug}: {resource.image.name}: {reason}")
        self.stdout.write(f"Renditions made for {made} image(s); {refused} could not be read.")
