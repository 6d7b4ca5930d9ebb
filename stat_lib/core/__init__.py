"""The bottom layer: errors, periods, the business calendar, atomic writes, dataset kinds.

It imports no other layer (standard library, numpy, pandas, holidays); every other
layer may import it.
"""
