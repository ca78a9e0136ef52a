"""The entitlements read model, cut by what it serves: one module per capability (licensing,
organisations, subscriptions, access applications, API keys, notifications), each holding the
documents it writes (TypedDicts), the event handlers that write them, and the typed readers.

The cut is in the code, not in the storage: every capability writes into the one document table
and the one tracking position of its backend (see ``marketplace.projections.entitlements``).
``documents`` holds what they share: the row shape and the batch of changes.
"""
