"""How personal identifiers are shown on screen (脱敏显示)."""


def mask_id_number(value: str) -> str:
    """``340104199001011234`` -> ``340104********1234``: region and last four stay visible."""
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str) -> str:
    """``13912345678`` -> ``139****5678``."""
    if len(value) < 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_bank_account(value: str) -> str:
    """``6222021234567890123`` -> ``6222 **** **** 0123``: the last four identify the card."""
    if len(value) < 8:
        return "*" * len(value)
    return f"{value[:4]} **** **** {value[-4:]}"
