"""Individual income tax by the cumulative withholding method (累计预扣法) on wages.

Year to date: taxable = Σ gross − Σ social insurance and housing fund − 5,000 × months employed this
year; tax = taxable × rate − quick deduction (the annual table below); this month withholds the year's
tax so far less what earlier months withheld. The table is data; the payroll SQL is generated from it.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

D = Decimal
# (upper bound of cumulative taxable income, rate, quick deduction); None = no upper bound.
BRACKETS: list[tuple[Decimal | None, Decimal, Decimal]] = [
    (D(36000), D("0.03"), D(0)),
    (D(144000), D("0.10"), D(2520)),
    (D(300000), D("0.20"), D(16920)),
    (D(420000), D("0.25"), D(31920)),
    (D(660000), D("0.30"), D(52920)),
    (D(960000), D("0.35"), D(85920)),
    (None, D("0.45"), D(181920)),
]


def cumulative_tax(taxable: Decimal) -> Decimal:
    if taxable <= 0:
        return D("0.00")
    for upper, rate, quick in BRACKETS:
        if upper is None or taxable <= upper:
            return (taxable * rate - quick).quantize(D("0.01"), rounding=ROUND_HALF_UP)
    raise AssertionError("unreachable")


def sql_cumulative_tax(taxable: str) -> str:
    """The same table as a SQL expression over the column expression ``taxable``."""
    cases = " ".join(
        f"WHEN {taxable} <= {upper} THEN round({taxable} * {rate} - {quick}, 2)"
        for upper, rate, quick in BRACKETS
        if upper is not None
    )
    _, top_rate, top_quick = BRACKETS[-1]
    return f"(CASE WHEN {taxable} <= 0 THEN 0 {cases} ELSE round({taxable} * {top_rate} - {top_quick}, 2) END)"
