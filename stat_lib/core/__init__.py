"""The bottom layer: errors, periods, the business calendar, atomic writes, dataset kinds.

Standard library, pandas and numpy only; every other layer may import it.
"""
