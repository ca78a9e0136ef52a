"""What operators can see, below every other package: the Prometheus metrics the services, the
ledger, the followers and the web layer count into (``metrics``). Nothing here imports the rest
of the bank, so any layer may count without a dependency pointing outward."""
