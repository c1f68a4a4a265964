"""税务部门 社会保险费征收平台 (the tax bureau's social-insurance-fee collection platform).

The portal asks the platform for a payment reference (缴款码) for each bill, sends the payer to
the platform to pay, learns of the payment from a signed callback, and catches up by querying.
``client`` is the portal's side, ``sandbox`` a real HTTP peer speaking the same protocol for
development and tests, ``signing`` the HMAC-SM3 request signature both sides use, ``codes`` the
protocol's result and status codes (the protocol is ours: see ``codes``).
"""
