"""The policy stage: YAML with positions, the model, inheritance, loading, validation, test cases, diff, schemas."""
