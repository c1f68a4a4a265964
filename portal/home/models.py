"""The home area keeps no tables of its own and reads none: a home page shows only the signed-in
actor (``portal.auth.roles.Actor``, from the session) and what the role may do
(``portal.home.service``)."""
