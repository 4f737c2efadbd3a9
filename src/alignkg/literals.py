"""Lexical checks of typed literals and language tags.

Neither parser rejects an impossible date such as ``"2020-02-30"^^xsd:date``: rdflib
logs a warning, pyoxigraph stores it and a date filter then silently drops the row.
alignkg checks the lexical form of every literal whose datatype it knows, on load.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

XSD = "http://www.w3.org/2001/XMLSchema#"

_TZ = r"(Z|[+-](0\d|1[0-4]):[0-5]\d)?"
_DATE = re.compile(r"^(-?\d{4,})-(\d{2})-(\d{2})" + _TZ + "$")
_DATETIME = re.compile(r"^(-?\d{4,})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?" + _TZ + "$")
_GYEAR = re.compile(r"^-?\d{4,}" + _TZ + "$")
_GYEARMONTH = re.compile(r"^(-?\d{4,})-(\d{2})" + _TZ + "$")
_INTEGER = re.compile(r"^[+-]?\d+$")
_DECIMAL = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_DOUBLE = re.compile(r"^([+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|[+-]?INF|NaN)$")
_LANGUAGE = re.compile(r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$")


def _calendar_date(year: str, month: str, day: str) -> bool:
    try:
        y = int(year)
        # Python's calendar covers years 1..9999; outside it only check month and day ranges.
        if 1 <= y <= 9999:
            dt.date(y, int(month), int(day))
            return True
        return 1 <= int(month) <= 12 and 1 <= int(day) <= 31
    except ValueError:
        return False


def _is_date(value: str) -> bool:
    m = _DATE.match(value)
    return m is not None and _calendar_date(m.group(1), m.group(2), m.group(3))


def _is_datetime(value: str) -> bool:
    m = _DATETIME.match(value)
    if not m or not _calendar_date(m.group(1), m.group(2), m.group(3)):
        return False
    hour, minute, second = int(m.group(4)), int(m.group(5)), int(m.group(6))
    return (hour < 24 and minute < 60 and second < 60) or (hour, minute, second) == (24, 0, 0)


def _is_gyearmonth(value: str) -> bool:
    m = _GYEARMONTH.match(value)
    return m is not None and 1 <= int(m.group(2)) <= 12


def _is_integer(value: str) -> bool:
    return bool(_INTEGER.match(value))


def _is_positive(value: str) -> bool:
    return _is_integer(value) and int(value) > 0


def _is_non_negative(value: str) -> bool:
    return _is_integer(value) and int(value) >= 0


def _is_boolean(value: str) -> bool:
    return value in {"true", "false", "1", "0"}


_CHECKS: dict[str, tuple[Callable[[str], bool], str]] = {
    XSD + "date": (_is_date, "a calendar date YYYY-MM-DD"),
    XSD + "dateTime": (_is_datetime, "a date and time YYYY-MM-DDThh:mm:ss"),
    XSD + "gYear": (lambda v: bool(_GYEAR.match(v)), "a year YYYY"),
    XSD + "gYearMonth": (_is_gyearmonth, "a year and month YYYY-MM"),
    XSD + "integer": (_is_integer, "an integer"),
    XSD + "int": (_is_integer, "an integer"),
    XSD + "positiveInteger": (_is_positive, "an integer above 0"),
    XSD + "nonNegativeInteger": (_is_non_negative, "an integer of 0 or more"),
    XSD + "boolean": (_is_boolean, "true or false"),
    XSD + "decimal": (lambda v: bool(_DECIMAL.match(v)), "a decimal number"),
    XSD + "double": (lambda v: bool(_DOUBLE.match(v)), "a floating-point number"),
    XSD + "language": (lambda v: bool(_LANGUAGE.match(v)), "a BCP 47 language tag"),
}


def lexical_problem(value: str, datatype: str) -> str | None:
    """Why ``value`` is not a valid lexical form of ``datatype``, or None when it is.

    >>> lexical_problem("2020-02-30", XSD + "date")
    '"2020-02-30" is not a valid xsd:date (expected a calendar date YYYY-MM-DD)'
    >>> lexical_problem("2020-02-29", XSD + "date") is None
    True
    """
    check = _CHECKS.get(datatype)
    if check is None:
        return None
    accepts, expected = check
    if accepts(value):
        return None
    short = "xsd:" + datatype[len(XSD) :]
    return f'"{value}" is not a valid {short} (expected {expected})'


def language_problem(tag: str) -> str | None:
    """Why ``tag`` is not a well-formed BCP 47 language tag, or None when it is.

    >>> language_problem("zh-Latn-pinyin") is None
    True
    >>> language_problem("zh_CN")
    'language tag "zh_CN" is not well-formed BCP 47'
    """
    if _LANGUAGE.match(tag):
        return None
    return f'language tag "{tag}" is not well-formed BCP 47'


def canonical_language(tag: str) -> str:
    """``tag`` in the case BCP 47 recommends (RFC 5646, 2.1.1): language subtags in lower
    case, a script in title case, a region in upper case; everything after a singleton
    (an extension or ``x-``) in lower case.

    >>> canonical_language("ZH-hans-cn")
    'zh-Hans-CN'
    >>> canonical_language("en-x-Private")
    'en-x-private'
    """
    parts = tag.split("-")
    out = [parts[0].lower()]
    singleton = False
    for part in parts[1:]:
        if singleton or len(part) == 1:
            singleton = True
            out.append(part.lower())
        elif len(part) == 2 and part.isalpha():
            out.append(part.upper())
        elif len(part) == 4 and part.isalpha():
            out.append(part.title())
        else:
            out.append(part.lower())
    return "-".join(out)
