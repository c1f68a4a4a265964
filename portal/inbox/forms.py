"""The inbox takes no form input: a message is opened by following its link, and the list's
filters (``show``, ``case``, ``page``) are query parameters the route reads and the service checks."""
