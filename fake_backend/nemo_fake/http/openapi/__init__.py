"""The fake's OpenAPI 3.1 document: `GET /openapi.json` and `nemo-fake openapi`."""

from nemo_fake.http.openapi.document import UndocumentedRoute, build, routed

__all__ = ["UndocumentedRoute", "build", "routed"]
