"""The public area's one door: the service catalogue (办事指南) of :mod:`portal.public.catalogue`,
loaded and checked once from ``config/service_catalogue.toml``. Plain Python, no Flask."""

from __future__ import annotations

from portal.public.catalogue import (
    Catalogue,
    CatalogueError,
    GeneralNote,
    ServiceItem,
    catalogue,
    load_catalogue,
)

__all__ = ["Catalogue", "CatalogueError", "GeneralNote", "ServiceItem", "catalogue", "load_catalogue"]
