"""The hash-chained SQLite ledger of commitments, draws, visits, teams and results."""
