"""The catalogue in GraphQL: departments, data assets, versions, the open review."""
