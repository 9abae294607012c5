Feature: Claim rounds and the payment ledger: a one-off award is paid once
  A round counts only the events inside its claim period; an award the ledger holds as paid is reported as
  already paid in later rounds and left out of the total.

  Scenario: A 2014 recognition is new in the 2014 round
    Given a "large enterprise" registered in "Shenyang"
    And it received "China Well-Known Trademark" on "2014-09-15"
    And the claim period is "2014"
    When it is evaluated as of "2014-12-31"
    Then it receives "ln2012.award.well-known-trademark" of 500000 yuan

  Scenario: Paid in the 2014 round, not paid again in 2016
    Given a "large enterprise" registered in "Shenyang"
    And it received "China Well-Known Trademark" on "2014-09-15"
    And it was already paid "ln2012.award.well-known-trademark" on "2015-03-01" in round "2014 round"
    And the claim period is "2016-01-01" to "2016-12-31"
    When it is evaluated as of "2016-12-31"
    Then "ln2012.award.well-known-trademark" is already paid and not paid again
    And the event of "2014-09-15" is outside the claim period
    And the total is 0 yuan
