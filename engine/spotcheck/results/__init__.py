"""Results: official categories, spreadsheets, the results file, 录入→审核→公示, publication, KPIs."""
