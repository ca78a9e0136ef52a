Feature: Logging in is slowed down for password guessers
  Every failed login counts against the account and against the client address. After five
  failures the account is locked for a second, and each further failure doubles the lock, up to
  fifteen minutes. While locked, even the right password is refused — the password is not looked
  at — and the answer says when to try again.

  Background:
    Given the data bank administrator "admin"

  Scenario: Wrong passwords lock the account for growing delays
    When someone tries 6 wrong passwords for "admin"
    Then the last attempt is refused as "RATE_LIMITED", to be retried after 1 second
    And the right password of "admin" is refused as well
    When 1 second passes
    And someone tries 2 wrong passwords for "admin"
    Then the last attempt is refused as "RATE_LIMITED", to be retried after 2 seconds
    When 2 seconds pass
    Then "admin" logs in with the right password

  Scenario: One request tries one password
    When someone tries 10 passwords for "admin" in one request
    Then the request is refused as "BAD_USER_INPUT" naming "login"
