"""Bills and their payment through the tax bureau's social-insurance-fee collection platform
(社保费征收). See ``service`` for the API other areas call."""
