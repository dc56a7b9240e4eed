"""Entity resolution for Chinese customer master data."""
