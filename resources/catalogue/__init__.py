"""The public catalogue: browsing, filtering, search, detail pages, personal rules, plans, sitemaps.

Reads only published resources (see docs/architecture.md). Depends on ``resources.models``;
nothing here imports from ``resources.clinics`` or ``resources.editorial``.
"""
