"""Technology catalogues (目录): editions supplied by plugins, synced into tables, cited by records."""
