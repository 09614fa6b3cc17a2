"""Conditions and rules: the closed field vocabulary, operators, the one module that talks to durable-rules, classes of rows."""
