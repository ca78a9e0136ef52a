"""The step library by area, one module per feature folder (features/<area>/); tests/bdd/conftest.py
loads them over the shared core (steps/core.py and the conftest's common steps)."""
