"""Per-institution API tokens for the HIS interface (JL-38: HIS 对接自动报送)."""
