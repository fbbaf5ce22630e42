"""Case reporting (病例逐例报送): case records, their import jobs, regulator warnings."""
