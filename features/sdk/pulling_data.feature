Feature: A developer pulls data with the Python SDK
  A startup's developer installs databank-sdk, finds a dataset in the catalogue and pulls its
  rows with the free plan's API key. When the month's quota is used up, the SDK says so with
  the time it resets, instead of retrying in a loop.

  Background:
    Given the data bank administrator "admin"
    And the department "六安市公安局" with the publisher "pub-police"
    And the "open" licence "开放数据许可"
    And the resident list "人口摘录" of "六安市公安局" with 6 people, open to all
    And it is offered as "免费版" under "开放数据许可" with 5 rows a month, masked
    And the member "li@startup.example" of the startup "六安数智科技"
    And "li@startup.example" is logged in
    And they subscribed to "免费版" accepting terms version 1
    And they created the API key "analysis"

  Scenario: A developer with a free key pulls an open dataset into a table
    When the developer searches the catalogue with the SDK for "人口"
    Then the SDK finds "人口摘录"
    When the developer pulls 4 rows of "人口摘录" with the SDK
    Then the SDK gives 4 rows with the columns "序号,公民身份号码,姓名,所属区县"
    And the SDK says 1 rows remain this month

  Scenario: The same developer hits the quota and learns when it resets
    When the developer pulls every row of "人口摘录" with the SDK
    Then the SDK raised QuotaExceededError after 5 rows, resetting at "2026-04-01T00:00:00+08:00"
    And the server was asked 4 times, without retries

  Scenario: A developer with a free key pulls an open dataset into pandas via export
    When the developer exports "人口摘录" where "所属区县" is "霍山县" into pandas with the SDK
    Then the DataFrame has 3 rows with the columns "序号,公民身份号码,姓名,所属区县"
    And every "所属区县" in the DataFrame is "霍山县" and no "公民身份号码" is shown in full
    And the export says 2 rows remain this month
