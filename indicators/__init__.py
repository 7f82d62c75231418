"""The indicator library: a pure library over pandas DataFrames (no database, no Dash).

It turns stored measures into the multi-agency dataset: values with confidence intervals, SPC signals,
comparisons with statistical neighbours and England, turn-the-curve baselines and exceptions.
"""
