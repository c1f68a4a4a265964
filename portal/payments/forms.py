"""The payments area takes no form input of its own: 去缴费 and 查询缴费结果 are buttons that carry
only the CSRF token, the bill list's status filter is one query parameter, and the platform's
callback is a signed JSON body checked by the service (``accept_signed_callback``)."""
