Feature: What the catalogue refuses
  Every refusal names the problem and changes nothing: no half-written version, no event.

  Background:
    Given the department "六安市交通运输局" with the publisher "pub-transport"
    And the department "六安市卫生健康委员会" with the publisher "pub-health"
    And the open-data reviewer "reviewer"
    And the open-data reviewer "transport-reviewer" of "六安市交通运输局"

  Scenario: Publishing without approval is refused
    Given "pub-transport" is logged in
    And they registered the data asset "公交站点" classified 2 08 001
    And they uploaded a UTF-8 CSV with 3 bus stops
    When they publish version 1
    Then the answer is the error "NOT_APPROVED"
    And the asset is "DRAFT"

  Scenario: A reviewer cannot approve their own department's asset
    Given "pub-transport" is logged in
    And they registered the data asset "公交站点" classified 2 08 001
    And they uploaded a UTF-8 CSV with 3 bus stops
    And they submitted version 1 for open review
    When "transport-reviewer" approves it because "本部门数据"
    Then the answer is the error "SELF_REVIEW"
    And the asset is "SUBMITTED"

  Scenario: A publisher cannot touch another department's asset
    Given "pub-transport" is logged in
    And they registered the data asset "公交站点" classified 2 08 001
    When "pub-health" uploads a UTF-8 CSV with 3 bus stops to it
    Then the answer is the error "NOT_PERMITTED"
    And the asset has no versions

  Scenario: A conditional open type must cite its legal basis
    Given "pub-health" is logged in
    When they register a conditionally open asset without a legal basis
    Then the answer is the error "LEGAL_BASIS_REQUIRED" on the field "metadata.opening.legalBasis"
    And the catalogue holds no asset named "医疗机构名录"

  Scenario: An invalid classification is refused
    Given "pub-transport" is logged in
    When they register the data asset "公交站点" classified 2 8 001
    Then the answer is the error "INVALID_CLASSIFICATION"

  Scenario Outline: A malformed upload is refused with where the problem is
    Given "pub-transport" is logged in
    And they registered the data asset "公交站点" classified 2 08 001
    When they upload the file "<file>"
    Then the answer is the error "<code>" mentioning "<where>"
    And the asset has no versions

    Examples:
      | file                     | code                      | where  |
      | a ragged row on line 3   | IMPORT_RAGGED_ROW         | line 3 |
      | undecodable bytes        | IMPORT_UNDECODABLE        | line   |
      | an empty file            | IMPORT_EMPTY              | empty  |
      | a bad number on line 4   | IMPORT_BAD_VALUE          | line 4 |

  Scenario: An upload beyond the size limit is refused before it is stored
    Given "pub-transport" is logged in
    And they registered the data asset "公交站点" classified 2 08 001
    When they upload a file larger than the upload limit
    Then the request is refused as too large
    And the asset has no versions

  Scenario: Anonymous people see only published assets
    Given "pub-transport" is logged in
    And they registered the data asset "公交站点" classified 2 08 001
    Then an anonymous search for "公交" finds nothing
    And an anonymous look-up of the asset finds nothing
