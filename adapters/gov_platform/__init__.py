"""省政务服务平台 统一身份认证 (the Anhui government-service platform's unified login).

``codes`` names the claims, account types and scopes; ``sandbox`` is a real OpenID Connect
provider that stands in for the platform in development and tests.
"""
