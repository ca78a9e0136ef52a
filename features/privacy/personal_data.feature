Feature: Personal data that cannot be learned
  A masked column is one whose values the caller may not learn, not a display filter. A column
  that looks personal is masked for everyone short of a full licence, even when the publisher
  declared nothing personal, until an open-data reviewer clears it with a written reason. An
  identity number is masked together with what its row shows: beside a birth date, only the
  year of birth is shown, and the number keeps nothing but its region.

  Background:
    Given the department "六安市民政局" with the publisher "pub-civil"
    And the open-data reviewer "reviewer"

  Scenario: An identity-number column nobody declared is masked until the reviewer clears it
    Given "pub-civil" is logged in
    When they register the volunteer list "志愿者名单" declaring nothing personal
    And they upload 5 volunteers whose "证件" holds identity numbers
    Then the upload reports "证件" as "id_number"
    When they submit version 1 for open review
    And "reviewer" approves it because "分类分级核查通过"
    And "pub-civil" publishes version 1
    And an anonymous person reads the rows of "志愿者名单"
    Then every "证件" shows its region and nothing more
    When "reviewer" clears the column "证件" because "证件号为志愿者系统生成的编号，非身份号码"
    Then the asset lists "证件" as cleared because "证件号为志愿者系统生成的编号，非身份号码"
    When an anonymous person reads the rows of "志愿者名单"
    Then every "证件" reads as uploaded

  Scenario: Clearing a column needs a reviewer and a written reason
    Given "pub-civil" is logged in
    When they register the volunteer list "志愿者名单" declaring nothing personal
    And they upload 5 volunteers whose "证件" holds identity numbers
    And "pub-civil" clears the column "证件" because "我们自己的编号"
    Then the answer is the error "NOT_PERMITTED"
    When "reviewer" clears the column "证件" because " "
    Then the answer is the error "INVALID_INPUT" on the field "reason"
    When "reviewer" clears the column "服务队" because "不是个人信息"
    Then the answer is the error "NOT_DETECTED" on the field "column"

  Scenario: A masked identity number beside a birth date shows only the year
    Given the resident register "人口信息" of "六安市民政局" lists "341524201006180427" "李娜" "女" born "2010-06-18"
    When an anonymous person reads the rows of "人口信息"
    Then the identity number reads "341524************" and the name "李**"
    And the birth date reads "2010"
    And at least 1000 identity numbers fit everything the row shows

  Scenario: A birth date the reviewer cleared still shows only the year beside a masked identity number
    Given the resident register "人口信息" of "六安市民政局" lists "341524201006180427" "李娜" "女" born "2010-06-18"
    When "reviewer" clears the column "出生日期" because "研究需要精确出生日期，已签订使用协议"
    And an anonymous person reads the rows of "人口信息"
    Then the identity number reads "341524************" and the name "李**"
    And the birth date reads "2010"
    And at least 1000 identity numbers fit everything the row shows
