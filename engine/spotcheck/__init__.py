"""spotcheck: plan data for 双随机、一公开 market-supervision inspections."""

from spotcheck.version import __version__

__all__ = ["__version__"]
