"""spotcheck: plan data for 双随机、一公开 market-supervision inspections."""

__all__ = ["__version__"]


def __getattr__(name: str) -> str:
    # The release comes from the installed package's metadata, read when asked for: importlib.metadata costs a
    # process about 0.07 s of CPU, and the plan's helper process, started for every large plan, never asks.
    if name == "__version__":
        from spotcheck.version import __version__

        return __version__
    raise AttributeError(f"module 'spotcheck' has no attribute {name!r}")
