"""The public area keeps no tables of its own and reads none: its pages show the service catalogue
(办事指南), read from ``config/service_catalogue.toml`` by ``portal.public.catalogue``."""
