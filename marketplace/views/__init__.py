"""Views: the read side's query services (cosmicpython's "views").

A view answers one area's questions for a caller (an ``Actor``) from the read models and the
ledger, and holds the rules of who sees what: which statuses, which department, which parts of a
history, whose usage, which client addresses. It reads, it never writes: commands go to
``marketplace.services``, whose Applications decide and record events; views sit beside them
because both serve the API layer, and neither needs the other.

Resolvers (``marketplace.api``) call a view with the caller and the arguments, and turn its typed
answer (frozen dataclasses, TypedDicts) into GraphQL types; a view's refusals
(``marketplace.views.errors``) become the API's errors there. The web layer builds the views once
per app and hands them to every request's context.
"""
