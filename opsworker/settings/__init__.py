"""Settings package: `base` declares everything; `dev`, `test` and `prod` only adjust."""
