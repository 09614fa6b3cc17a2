"""The draw: exact quotas, keyed-hash ranking, commit/reveal, the draw folder written and read."""
