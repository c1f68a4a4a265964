"""Machine interfaces (/api/): credentials of other agencies' systems and the OpenAPI document."""
