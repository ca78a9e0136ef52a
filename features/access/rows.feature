Feature: Pulling rows under a licence
  A startup's developer reads rows of a subscribed data asset with an API key. Every page is
  metered against the plan's quota, and the quota shows on every answer; personal data is
  masked as the licence tier says; revocation cuts access at once.

  Background:
    Given the data bank administrator "admin"
    And the department "六安市公安局" with the publisher "pub-police"
    And the "open" licence "开放数据许可"
    And the "commercial" licence "商业数据许可"
    And the resident list "人口摘录" of "六安市公安局" with 6 people, open to all
    And it is offered as "免费版" under "开放数据许可" with 5 rows a month, masked
    And it is offered as "商业版" under "商业数据许可" with 1000 rows a month, in full
    And the member "li@startup.example" of the startup "六安数智科技"
    And "li@startup.example" is logged in

  Scenario: A key reads until the quota is used up, and again after the period resets
    Given they subscribed to "免费版" accepting terms version 1
    And they created the API key "analysis"
    When the key reads 2 rows of "人口摘录"
    Then the answer has 2 rows and 3 rows remain this month
    When the key reads the next 2 rows
    Then the answer has 2 rows and 1 rows remain this month
    When the key reads the next 2 rows
    Then the answer has 1 rows and 0 rows remain this month
    When the key reads 2 rows of "人口摘录"
    Then the request is refused with "QUOTA_EXCEEDED" until the first of next month
    When the next month begins
    And the key reads 2 rows of "人口摘录"
    Then the answer has 2 rows and 3 rows remain this month

  Scenario: Personal data is masked under a masked tier and whole under a full one
    Given they subscribed to "免费版" accepting terms version 1
    And they created the API key "analysis"
    When the key reads 1 rows of "人口摘录"
    Then the identity number reads "341502************" and the name "王**"
    When they subscribe to "商业版" accepting terms version 1
    And the key reads 1 rows of "人口摘录"
    Then the identity number reads "341502199001010017" and the name "王芳"

  Scenario: Revocation cuts access at once
    Given they subscribed to "免费版" accepting terms version 1
    And they created the API key "analysis"
    When "pub-police" revokes the subscription because "违规向第三方转让数据"
    And the key reads 1 rows of "人口摘录"
    Then the request is refused with "FORBIDDEN" saying "revoked"

  Scenario: A revoked key is refused
    Given they subscribed to "免费版" accepting terms version 1
    And they created the API key "analysis"
    When they revoke the API key
    And the key reads 1 rows of "人口摘录"
    Then the request is refused with "UNAUTHENTICATED" saying "revoked"

  Scenario: Filters name what is wrong with them
    Given they subscribed to "免费版" accepting terms version 1
    And they created the API key "analysis"
    When the key reads "人口摘录" where "血型" is "A"
    Then the request is refused with "BAD_USER_INPUT" saying "no such column"
    When the key reads "人口摘录" where "所属区县" is "霍山县"
    Then every row has "所属区县" "霍山县"

  Scenario: Anonymous people read open data, masked, under a small allowance
    When an anonymous person reads 2 rows of "人口摘录"
    Then the answer has 2 rows
    And the identity number reads "341502************" and the name "王**"

  Scenario: A masked column cannot be filtered on, so a guess learns nothing
    Given they subscribed to "免费版" accepting terms version 1
    And they created the API key "analysis"
    When the key reads "人口摘录" where "公民身份号码" is "341502199001010017"
    Then the request is refused with "FORBIDDEN" saying "masked under your licence tier"
    When they subscribe to "商业版" accepting terms version 1
    And the key reads "人口摘录" where "公民身份号码" is "341502199001010017"
    Then every row has "公民身份号码" "341502199001010017"
