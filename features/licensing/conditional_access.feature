Feature: Conditional access needs an approved application
  A conditionally open asset is subscribed only under an approved application (purpose, scenario,
  security commitment). The providing department answers within the configured working days;
  an application not answered in time goes to the data bank administrator.

  Background:
    Given the data bank administrator "admin"
    And the department "六安市公安局" with the publisher "pub-police"
    And the "conditional_research" licence "科研数据许可"
    And the conditional asset "人口基础信息摘录" of "六安市公安局" offered as "科研版" under "科研数据许可"
    And the unconditional asset "派出所地址" of "六安市公安局" offered as "地址免费版" under "科研数据许可"
    And the member "li@startup.example" of the startup "六安数智科技"
    And "li@startup.example" is logged in

  Scenario: Without an approved application the asset cannot be subscribed
    When they subscribe to "科研版" accepting terms version 1
    Then the answer is the error "APPLICATION_REQUIRED"

  Scenario: An approved application opens the subscription
    Given they applied for "人口基础信息摘录" to "研究人口流动与公共服务布局"
    When "pub-police" approves the application until "2026-12-31"
    And "li@startup.example" subscribes to "科研版" accepting terms version 1 with the application
    Then the subscription is "ACTIVE" under terms version 1

  Scenario: A rejection gives reasons
    Given they applied for "人口基础信息摘录" to "商业营销"
    When "pub-police" rejects the application because "用途超出有条件开放范围"
    Then "li@startup.example" sees the application as "REJECTED" with the reason "用途超出有条件开放范围"

  Scenario: An application not answered in time is escalated to the administrator
    Given they applied for "人口基础信息摘录" to "研究人口流动与公共服务布局"
    When 6 working days pass without an answer
    Then "admin" sees the application as "ESCALATED" and overdue
    When "admin" approves the application until "2026-12-31"
    Then the application is "APPROVED"

  Scenario: An application to an asset that is not conditional is refused
    When they apply for "派出所地址" to "查询派出所地址"
    Then the answer is the error "NOT_CONDITIONAL" on the field "assetId"
