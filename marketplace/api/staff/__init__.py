"""Staff identity in GraphQL: log in, who am I, open accounts."""
