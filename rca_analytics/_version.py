"""The package version (single source for pyproject and ``rca --version``)."""

__version__ = "0.1.0"
