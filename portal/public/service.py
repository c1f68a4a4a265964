"""The public area's one door: the service catalogue (办事指南) of :mod:`portal.public.catalogue`,
loaded and checked once from the province's ``service_catalogue.toml``, and the contact details
(咨询电话, 办理地点) of :mod:`portal.public.contacts`. Plain Python, no Flask."""

from __future__ import annotations

from portal.public.catalogue import (
    BlankForm,
    Catalogue,
    CatalogueError,
    GeneralNote,
    ServiceItem,
    catalogue,
    load_catalogue,
)
from portal.public.contacts import CityOffice, Contacts, ContactsError, contacts

__all__ = ["BlankForm", "Catalogue", "CatalogueError", "CityOffice", "Contacts", "ContactsError", "GeneralNote",
           "ServiceItem", "catalogue", "contacts", "load_catalogue"]
