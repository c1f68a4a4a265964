"""税务 社保费征收平台 沙箱: a real HTTP peer speaking our protocol (``adapters.tax_collection.codes``).

Issues payment references, shows a pay page with 确认缴费 for the demo, answers payment queries,
and after a payment posts a signed callback to the portal, retried with backoff in a background
thread. State lives in memory; run it in one process (``adapters.sandbox_server``).
"""

from .app import SandboxState, create_tax_sandbox_app

__all__ = ["SandboxState", "create_tax_sandbox_app"]
