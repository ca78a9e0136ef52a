"""Rows of published data assets in GraphQL: the data access path."""
