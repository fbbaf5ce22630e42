"""Per-institution API tokens for the HIS interface (NAT-37)."""
