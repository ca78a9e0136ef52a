Feature: Paying for a plan through Stripe
  A startup subscribes to a paid plan, pays through Stripe Checkout, is billed for the rows it
  is served, and keeps access while its invoices are paid. Stripe's webhooks arrive signed,
  sometimes twice, sometimes out of order; each is handled once, in the order Stripe sent them:
  an event older than one already applied is recorded and changes nothing.

  Background:
    Given a startup subscribed to a plan of 9900 fen a month and 250 fen per 1000 rows

  Scenario: Checkout, usage, and a paid invoice
    Then the paid subscription is "pending_payment"
    When Stripe reports the checkout completed
    Then the paid subscription is "active"
    When the startup is served 4000 rows
    Then Stripe was sent 4000 rows under one usage identifier
    When Stripe reports the invoice paid
    Then the paid subscription is "active"

  Scenario: A failed payment suspends after the grace period, and paying reinstates
    Given Stripe reported the checkout completed
    When Stripe reports a failed payment 1 day after the invoice fell due
    Then the paid subscription is "active"
    When Stripe reports a failed payment 4 days after the invoice fell due
    Then the paid subscription is "suspended" because the payment failed
    And the organisation is told its subscription was suspended
    When Stripe reports the invoice paid
    Then the paid subscription is "active"

  Scenario: A delayed "subscription updated" does not reinstate a suspended subscription
    Given Stripe reported the checkout completed
    And Stripe reported a failed payment 4 days after the invoice fell due
    When Stripe delivers late a "subscription updated" to "active" it sent 2 days after the invoice fell due
    Then the paid subscription is "suspended" because the payment failed
    When Stripe delivers late a checkout completion it sent 1 day after the invoice fell due
    Then the paid subscription is "suspended" because the payment failed
    When Stripe reports the invoice paid
    Then the paid subscription is "active"

  Scenario: Duplicate and out-of-order webhooks
    When Stripe delivers the subscription update "active" before its creation "incomplete"
    And Stripe delivers the same checkout completion 3 times
    Then every delivery was answered 200
    And the paid subscription was activated once
