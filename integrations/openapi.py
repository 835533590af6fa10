"""drf-spectacular postprocessing: document the error shapes every operation can answer with
(config.api_errors makes them all JSON), unless an operation already documents that status."""

ERROR = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
    "example": {"detail": "You do not have permission to perform this action."},
}
FIELD_ERRORS = {
    "type": "object",
    "description": 'Field errors ({field: [messages]}) or {"detail": message}.',
    "additionalProperties": {},
    "example": {"url": ["Only http and https URLs can receive webhooks."]},
}
STATUSES = {
    "400": ("Bad input.", "FieldErrors"),
    "401": ("No valid credentials (session or `Authorization: Token KEY`).", "Error"),
    "403": ("Your role or the token's scopes do not allow this.", "Error"),
    "404": ("Not found, or outside what you may see.", "Error"),
    "429": ("Rate limited; see the Retry-After header.", "Error"),
}


def add_error_responses(result, generator, request, public):
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault("Error", ERROR)
    components.setdefault("FieldErrors", FIELD_ERRORS)
    for path, operations in result.get("paths", {}).items():
        if not path.startswith("/api/v1/"):
            continue
        for _method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for status, (description, name) in STATUSES.items():
                operation["responses"].setdefault(
                    status,
                    {
                        "description": description,
                        "content": {
                            "application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}
                        },
                    },
                )
    return result
