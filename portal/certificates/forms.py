"""The certificates area takes no form input of its own: issuing a certificate is a button (its
CSRF token is checked app-wide) and verifying one is a GET of its number and 校验码 (``n``, ``c``)."""
