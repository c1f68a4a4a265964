"""Machine interfaces (机器接口, /api/): credentials of other agencies' systems and the OpenAPI document."""
