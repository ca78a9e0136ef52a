"""Licences, plans, subscriptions and conditional access applications."""
