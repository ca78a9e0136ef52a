"""The web layer: the Starlette app, the /graphql endpoint, GraphiQL."""
