"""Licences, plans and subscriptions (access applications are ``api.access_applications``)."""
