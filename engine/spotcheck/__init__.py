"""spotcheck: plan data for 双随机、一公开 market-supervision inspections."""

__version__ = "0.1.0"
