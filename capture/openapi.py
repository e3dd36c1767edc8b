"""OpenAPI security schemes of the capture app's authenticators (loaded in CaptureConfig.ready)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class IngestKeyScheme(OpenApiAuthenticationExtension):
    target_class = "capture.authentication.IngestKeyAuthentication"
    name = "ingestKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token ftdbi_…` (or `Bearer ftdbi_…`): a team ingest key; writes logs only.",
        }


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "capture.authentication.BearerTokenAuthentication"
    name = "bearerTokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token as Bearer.",
        }
