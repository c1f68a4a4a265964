"""The public area takes no WTForms input: the catalogue look-up is a GET of ``q``, and the
large-text switch (大字模式) posts one ``size`` the route checks itself, because anonymous visitors
have no session to hold a CSRF token (see ``portal.public.routes.set_text_size``)."""
