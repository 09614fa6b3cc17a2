"""The public website (一公开): static pages from the ledger, search, and a draw anyone can check in the browser."""
