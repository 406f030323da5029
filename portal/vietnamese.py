"""Vietnamese formatting that never depends on the machine's locale.

Babel carries CLDR's ``vi`` data, so ``2.686.455``, ``1,2 MB`` and
``Thứ Hai, 23/03/2020 08:15`` come out the same on every build host.
"""

import unicodedata
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.numbers import format_decimal

LOCALE = "vi"
TIMEZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def nfc(text):
    """Return ``text`` in NFC; text typed on NFD keyboards compares equal."""
    return unicodedata.normalize("NFC", text) if isinstance(text, str) else text


def to_vn(moment):
    """``moment`` in Vietnam time; a naive time is taken to be Vietnam time."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=TIMEZONE)
    return moment.astimezone(TIMEZONE)


def vi_datetime(moment):
    """``Thứ Hai, 23/03/2020 08:15`` (the article page's date line)."""
    return format_datetime(to_vn(moment), "EEEE, dd/MM/yyyy HH:mm", locale=LOCALE)


def vi_date(moment):
    """``23/03/2020`` (list pages)."""
    return format_datetime(to_vn(moment), "dd/MM/yyyy", locale=LOCALE)


def vi_bulletin_time(moment):
    """``11h00 ngày 14/8/2020`` (the style of the bulletin widget)."""
    local = to_vn(moment)
    return f"{local:%H}h{local:%M} ngày {local.day}/{local.month}/{local.year}"


def vi_number(value):
    """``2.686.455``: dot for thousands, comma for decimals."""
    return format_decimal(value, locale=LOCALE)


def vi_filesize(size):
    """``850 KB``, ``1,2 MB``: sizes as a reader expects them (base 1024)."""
    units = ["byte", "KB", "MB", "GB"]
    value = float(size)
    for unit in units:
        if value < 1024 or unit == units[-1]:
            break
        value /= 1024
    if unit == "byte":
        return f"{int(value)} byte"
    return f"{format_decimal(value, '#,##0.#', locale=LOCALE)} {unit}"


def iso_datetime(moment):
    """ISO 8601 with the +07:00 offset, for ``<time datetime>`` and metadata."""
    return to_vn(moment).isoformat(timespec="seconds")


FILTERS = {
    "vi_datetime": vi_datetime,
    "vi_date": vi_date,
    "vi_bulletin_time": vi_bulletin_time,
    "vi_number": vi_number,
    "vi_filesize": vi_filesize,
    "iso_datetime": iso_datetime,
}

