"""The auth area takes no input of its own: people sign in at the provincial platform (统一身份认证)
and signing out is a button that carries only the CSRF token."""
