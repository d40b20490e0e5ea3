"""How the web pages write money, days and times (English; one place to change)."""

from __future__ import annotations

from datetime import datetime, tzinfo

_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "cad": "CA$", "aud": "A$", "nzd": "NZ$",
            "brl": "R$", "inr": "₹"}  # fmt: skip


def money(cents: int, currency: str) -> str:
    symbol = _SYMBOLS.get(currency.lower())
    amount = f"{cents // 100:,}.{cents % 100:02d}"
    return f"{symbol}{amount}" if symbol else f"{amount} {currency.upper()}"


def time_of_day(instant: datetime, zone: tzinfo) -> str:
    return instant.astimezone(zone).strftime("%H:%M")


def day_heading(instant: datetime, zone: tzinfo) -> str:
    local = instant.astimezone(zone)
    return f"{local:%A} {local.day} {local:%B}"


def date_long(instant: datetime, zone: tzinfo) -> str:
    local = instant.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %Y}, {local:%H:%M}"
