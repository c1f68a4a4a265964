"""省政务服务平台 (the Anhui government-service platform): 统一身份认证 and 一网通办.

``codes`` names the unified login's claims, account types and scopes; ``client`` is the portal's
client of the 一网通办 service-item interface (办件上报; protocol in its docstring), with its code
lists in ``service_items`` and its one exception in ``errors``; ``sandbox`` is a real OpenID
Connect provider that also serves the 一网通办 peer, standing in for the platform in development
and tests.
"""
