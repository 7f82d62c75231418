"""Reusable pieces of the dashboard: functions that take data and return Dash components."""
