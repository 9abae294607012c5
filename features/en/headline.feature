Feature: Headline rules in English
  The same rules as the Chinese features, for English-speaking readers.

  Scenario: A small enterprise in Fuxin gets 70% of its international trademark registration
    Given a "small enterprise" registered in "Fuxin"
    And it registered a trademark internationally on "2016-05-01" at a cost of 10000 yuan
    When it is evaluated as of "2016-12-31"
    Then it receives "International trademark registration subsidy" of 7000 yuan
    And "International trademark registration subsidy" is based on "Liaoning Action Plan"

  Scenario: A university gets no trademark subsidy
    Given a "university" registered in "Fuxin"
    And it registered a trademark internationally on "2016-05-01" at a cost of 10000 yuan
    When it is evaluated as of "2016-12-31"
    Then it does not receive "International trademark registration subsidy"
    And the total is 0 yuan

  Scenario: A well-known trademark (2013) and an international registration (2016)
    Given a "large enterprise" registered in "Shenyang"
    And it received "China Well-Known Trademark" on "2013-05-10"
    And it registered a trademark internationally on "2016-05-01" at a cost of 10000 yuan
    When it is evaluated as of "2016-12-31"
    Then it receives "ln2012.award.well-known-trademark" of 500,000 yuan
    And the total is 507000 yuan

  Scenario: Invention patent fees are reimbursed at the amount actually paid
    Given a "university" registered in "Dalian"
    And it was granted an invention patent on "2017-03-01", having paid an application fee of 135 yuan and an examination fee of 375 yuan
    When it is evaluated as of "2017-12-31"
    Then it receives "Invention patent fee reimbursement" of 510 yuan

  Scenario Outline: Inventors' share in Fuxin: exactly 70% is met, one fen less is not
    Given a "university" registered in "Fuxin"
    And it implemented a service invention by "transfer" in "Fuxin" on "2018-05-15", with a net income of 100000 yuan and a reward to the inventors of <reward> yuan
    When it is evaluated as of "2018-12-31"
    Then it <outcome>

    Examples:
      | reward   | outcome                                                   |
      | 70000.00 | meets "fx2017.transfer.inventor-share"                     |
      | 69999.99 | falls short of "fx2017.transfer.inventor-share" by 0.01 yuan |

  Scenario: Licensing is not covered by the 70% rule
    Given a "university" registered in "Fuxin"
    And it implemented a service invention by "licence" in "Fuxin" on "2018-05-15", with a net income of 100000 yuan and a reward to the inventors of 10000 yuan
    When it is evaluated as of "2018-12-31"
    Then "fx2017.transfer.inventor-share" does not apply

  Scenario: A blacklisted enterprise loses financing support, keeps services
    Given a "large enterprise" registered in "Shenyang"
    And its "key industries" is "new materials"
    And it was blacklisted on "2022-01-10"
    And it took out an IP pledge loan of 1000000 yuan on "2022-03-01"
    And it filed an "invention" patent application on "2022-04-01"
    When it is evaluated as of "2022-12-31"
    Then "ln2021.finance.pledge" is withheld because of "Joint punishment for serious IP dishonesty"
    And it receives "Priority patent examination"

  Scenario: The subsidy waits for the cost
    Given a "small enterprise" registered in "Fuxin"
    And it registered a trademark internationally on "2016-05-01"
    When it is evaluated as of "2016-12-31"
    Then "International trademark registration subsidy" is undetermined for lack of "cost"

  Scenario: One payment per event in the overlap year 2015
    Given a "large enterprise" registered in "Shenyang"
    And it received "China Well-Known Trademark" on "2015-06-01"
    When it is evaluated as of "2015-12-31"
    Then "ln2012.award.well-known-trademark" is superseded by "ln2015.award.well-known-trademark"
    And the total is 500000 yuan

  Scenario: A China gold award is not one condition short of the other award grades
    Given a "large enterprise" registered in "Dalian"
    And its "owns IP" is "yes"
    And its "exporter" is "no"
    And it received "China Patent Gold Award" on "2014-03-01"
    When it is evaluated as of "2014-12-31"
    Then it receives "ln2012.award.china-patent-gold" of 500000 yuan
    And it is not one condition short of "ln2012.award.provincial-patent-gold"
    And it is one condition short of "ln2012.intl.exporter-filing-guidance": "exporter"
