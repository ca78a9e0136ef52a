Feature: Filters that would read a whole large table are refused, naming the ones that work
  A filter or a sort on a column without an index makes the data bank read the whole table.
  On a large table that would slow every other request down, so the bank refuses it before
  reading anything and before counting any quota, and names the columns it can filter by
  quickly: the asset's keys, dates and area columns, or what the publisher declared filterable.
  Small tables are still read whole.

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
    And the bank reads at most 4 rows for a query no index serves

  Scenario: An unindexed filter on a table over the budget is refused, and an indexed one served
    Given they subscribed to "免费版" accepting terms version 1
    And they created the API key "analysis"
    When the key reads "人口摘录" where "姓名" is "李强"
    Then the request is refused with "FORBIDDEN" saying "masked under your licence tier"
    When they subscribe to "商业版" accepting terms version 1
    And the key reads "人口摘录" where "姓名" is "李强"
    Then the request is refused with "BAD_USER_INPUT" saying "on an indexed column (序号, 所属区县)"
    When the key reads "人口摘录" where "所属区县" is "霍山县"
    Then every row has "所属区县" "霍山县"
    And the answer has 3 rows and 997 rows remain this month

  Scenario: A table within the budget is still read whole
    Given they subscribed to "商业版" accepting terms version 1
    And they created the API key "analysis"
    And the bank reads at most 6 rows for a query no index serves
    When the key reads "人口摘录" where "姓名" is "李强"
    Then every row has "姓名" "李强"
    And the answer has 1 rows and 999 rows remain this month
