"""Money is ``Decimal``, exact to the cent (CONVENTIONS): the cent, which amounts are quantized to (each rule
names its rounding)."""

from decimal import Decimal

CENT = Decimal("0.01")
