Feature: Subscribing to data under a licence
  A startup's member subscribes their organisation to a plan, accepting the licence's current
  terms version; free plans start at once, and a breach revokes access for good.

  Background:
    Given the data bank administrator "admin"
    And the department "六安市交通运输局" with the publisher "pub-transport"
    And the "open" licence "开放数据许可"
    And the unconditional asset "公交站点" of "六安市交通运输局" offered as "公交站点免费版" under "开放数据许可"
    And the member "li@startup.example" of the startup "六安数智科技"
    And "li@startup.example" is logged in

  Scenario: A free plan starts at once with the current terms
    When they subscribe to "公交站点免费版" accepting terms version 1
    Then the subscription is "ACTIVE" under terms version 1
    And the access path finds the subscription of "六安数智科技" to "公交站点" "active"

  Scenario: Accepting an outdated terms version is refused
    Given the administrator published new terms of "开放数据许可"
    When they subscribe to "公交站点免费版" accepting terms version 1
    Then the answer is the error "OUTDATED_TERMS" on the field "acceptedTermsVersion" mentioning "version 2"

  Scenario: Subscribing twice is refused
    Given they subscribed to "公交站点免费版" accepting terms version 1
    When they subscribe to "公交站点免费版" accepting terms version 1
    Then the answer is the error "ALREADY_EXISTS" on the field "planId"

  Scenario: Revocation cuts access at once
    Given they subscribed to "公交站点免费版" accepting terms version 1
    When "pub-transport" revokes the subscription because "违规向第三方转让数据"
    Then the subscription is "REVOKED" under terms version 1
    And the access path finds the subscription of "六安数智科技" to "公交站点" "revoked"
    And "li@startup.example" sees the subscription to "公交站点" as "REVOKED"

  Scenario: An organisation with an invalid credit code is refused, naming the problem
    When they register the organisation "坏代码科技" with the credit code "91320621MA1MRHG207"
    Then the answer is the error "INVALID_CREDIT_CODE" on the field "creditCode" mentioning "91320621MA1MRHG207"
