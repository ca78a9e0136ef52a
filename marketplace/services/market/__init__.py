"""The market and licensing area: one event store (store.Market) and one small service per
capability holding it (members, licensing, organisations, subscriptions, access applications,
API keys)."""
