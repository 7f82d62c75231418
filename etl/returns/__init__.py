"""Quarterly returns: templates generated from the definitions, validation, versioned loading, status."""
