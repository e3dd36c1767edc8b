"""OpenAPI generation details: component names for nested serializers and the token scheme."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema


class FinetuneDBAutoSchema(AutoSchema):
    def get_serializer_name(self, serializer, direction):
        # Views keep small nested Input/Output serializers (HackSoft style); name their
        # components after the view so two views' "InputSerializer" never collide.
        cls = serializer if isinstance(serializer, type) else serializer.__class__
        parts = cls.__qualname__.split(".")
        if len(parts) >= 2:
            return parts[-2].removesuffix("Api") + parts[-1].removesuffix("Serializer")
        return super().get_serializer_name(serializer, direction)


class HashedTokenScheme(OpenApiAuthenticationExtension):
    target_class = "finetunedb.teams.authentication.HashedTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <value>`; get one from POST /api/v1/auth/token/ or the API tokens page.",
        }
