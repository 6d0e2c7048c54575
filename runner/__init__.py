"""The runner: suites → measurement points → records in ``data/``. The only package that imports torch."""
