"""The operating year: which rounds are due and drawn, what a revision may change, and the year board."""
