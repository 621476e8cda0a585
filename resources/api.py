"""Read-only JSON API (django-ninja), /api/v1/ — filled in by the API work."""

from ninja import NinjaAPI

api = NinjaAPI(title="Physical Activity Resource Hub API", version="1", urls_namespace="api")
