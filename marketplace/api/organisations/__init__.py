"""Member accounts, organisations and their API keys."""
