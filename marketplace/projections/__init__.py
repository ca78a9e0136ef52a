"""Read models fed from the event log: each follows the log and tracks its position."""
