"""Distribution to clinics and partners: the link builder, embeds, feeds, referral counts, the API.

Built on the catalogue's filters (``resources.catalogue.filters``), so a clinic's link, feed or
API call lists exactly what the same filters list on the site (see docs/architecture.md).
"""
