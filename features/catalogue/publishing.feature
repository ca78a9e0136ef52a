Feature: Publishing a data asset through open review
  A department publisher registers a data asset (数据资产) in the catalogue (目录), uploads a
  version of its rows, submits it for open review (开放审查), and publishes it once a reviewer
  approves. Anyone can then find it; the history says who did what, and when.

  Background:
    Given the department "六安市交通运输局" with the publisher "pub-transport"
    And the department "六安市卫生健康委员会" with the publisher "pub-health"
    And the open-data reviewer "reviewer"

  Scenario: An asset goes from registration to the public catalogue and back out
    Given "pub-transport" is logged in
    When they register the data asset "公交站点" classified 2 08 001
    Then the asset has the resource code "208001/000001" and is a draft
    When they upload a UTF-8 CSV with 3 bus stops
    Then version 1 has 3 rows with the columns "站点编号, 站点名称, 经度, 纬度"
    When they submit version 1 for open review
    And "reviewer" approves it because "无个人信息，坐标为公共设施位置"
    And "pub-transport" publishes version 1
    Then an anonymous search for "公交" finds "公交站点" with 3 rows
    And its history reads "Registered, VersionAdded, SubmittedForReview, Approved, Published"
    And the history names "pub-transport" for "Published" and "reviewer" for "Approved"
    And an anonymous reader of its history sees no internal table names
    When "pub-transport" withdraws it because "坐标系有误，更正后重新发布"
    Then an anonymous search for "公交" finds nothing

  Scenario: Government files in GB18030 are detected
    Given "pub-transport" is logged in
    And they registered the data asset "公交站点" classified 2 08 001
    When they upload a GB18030 CSV with 3 bus stops
    Then version 1 has 3 rows and was read as "gb18030"

  Scenario: A rejected asset is corrected and resubmitted
    Given "pub-transport" is logged in
    And they registered the data asset "公交站点" classified 2 08 001
    And they uploaded a UTF-8 CSV with 3 bus stops
    When they submit version 1 for open review
    And "reviewer" rejects it because "摘要未说明坐标系"
    Then the asset is "REJECTED"
    When "pub-transport" submits version 1 for open review again
    Then the asset is "SUBMITTED"
