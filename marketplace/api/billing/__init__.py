"""Billing in the API: Checkout and portal sessions, invoices and billing status."""
