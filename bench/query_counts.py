"""Report the SQL queries each public page runs, against the current database.

Usage (after `make run` has loaded the starter content once):
    DJANGO_DEBUG=true .venv/bin/python bench/query_counts.py
The budget is 8 per page (docs/architecture.md); tests/catalogue/test_browse.py and
tests/catalogue/test_pages.py pin it.
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from resources.models import Resource  # noqa: E402

first = Resource.objects.published().order_by("slug").first()
# Canonical queries (parameters in alphabetical order), so each line measures the page itself.
FILTERS = "bone=suitable&level=gentle&type=balance"
ALL_FILTERS = (
    "bone=suitable&kind=guide&lang=en&level=gentle&level=moderate&q=balance"
    "&stage=metastatic&type=balance"
)
detail = f"/en/resources/{first.slug}/" if first else "/en/resources/missing/"
pages = [
    "/en/",
    "/en/resources/",
    f"/en/resources/?{FILTERS}",
    f"/en/resources/?{ALL_FILTERS}",
    "/en/resources/?q=balance",
    "/en/resources/?level=nope",
    detail,
    "/en/safety/",
    "/en/about/",
    f"/en/for-clinics/?{FILTERS}",
    f"/en/for-clinics/handout/?{FILTERS}",
    f"/embed/resources/?{FILTERS}",
    f"/en/feeds/rss/?{FILTERS}",
    f"/api/v1/resources/?{FILTERS}",
    f"/api/v1/resources/{first.slug}/" if first else "/api/v1/resources/missing/",
    "/api/v1/vocabularies/",
    "/sitemap.xml",
]
client = Client()
print(f"{'queries':>7}  {'status':>6}  page   ({connection.vendor})")
for page in pages:
    with CaptureQueriesContext(connection) as queries:
        status = client.get(page).status_code
    print(f"{len(queries):>7}  {status:>6}  {page}")
