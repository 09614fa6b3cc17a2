"""Entity and inspector directories: loading, header rows, cells, USCC check digits, synthetic directories."""
