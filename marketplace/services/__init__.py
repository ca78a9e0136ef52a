"""Use cases: eventsourcing Applications, one method per thing a user does."""
