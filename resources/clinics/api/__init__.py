"""The read-only JSON API for clinics' own pages (django-ninja)."""
