"""省政务服务平台 统一身份认证 沙箱: a real OpenID Connect provider (Authlib) for development and tests.

Code flow with S256 PKCE, nonce, RS256 id_tokens with ``kid``, userinfo and RP-initiated logout.
State lives in memory; run it in one process (see ``adapters.sandbox_server.serve_in_thread``).
"""

from .app import create_sandbox_app

__all__ = ["create_sandbox_app"]
