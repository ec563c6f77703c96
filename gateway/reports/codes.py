"""Card networks' chargeback reason codes and currencies' minor units.

Visa's dispute groups: 10 fraud (10.1-10.5), 11 authorisation (11.1-11.3), 12 processing
errors (12.1-12.7), 13 consumer disputes (13.1-13.9). Mastercard's are four digits
starting 48 (4807, 4808, 4834, 4837, 4853, 4863, ...): any 48xx is taken, since the
network adds and retires codes in that range.
"""

from __future__ import annotations

import re

VISA_CODES = frozenset(
    [f"10.{n}" for n in range(1, 6)]
    + [f"11.{n}" for n in range(1, 4)]
    + [f"12.{n}" for n in range(1, 8)]
    + [f"13.{n}" for n in range(1, 10)]
)
MASTERCARD = re.compile(r"^48\d\d$")
NETWORKS = ("visa", "mastercard")

# ISO 4217 currencies without two decimals; every other has two.
MINOR_DIGITS = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
    "PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0,
    "XPF": 0, "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}  # fmt: skip


def reason_code_problem(network: str, code: str) -> str | None:
    """Why the code is not one of the network's, or None when it is."""
    if network == "visa":
        if code not in VISA_CODES:
            return (
                f"Visa reason code {code!r} is not one of 10.1-10.5, 11.1-11.3, "
                "12.1-12.7, 13.1-13.9"
            )
        return None
    if network == "mastercard":
        if not MASTERCARD.match(code):
            return f"Mastercard reason code {code!r} is not four digits starting 48 (48xx)"
        return None
    return f"network {network!r} is not one of {', '.join(NETWORKS)}"


def minor_digits(currency: str) -> int:
    return MINOR_DIGITS.get(currency, 2)
