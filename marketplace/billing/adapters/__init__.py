"""The BillingGateway port's implementations: the offline ledger (the default) and Stripe."""
