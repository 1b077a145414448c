"""The headline dimensions of the outcome table.

METHOD.md §7 ("Trend: the headline table") and §8 name the table without listing it; the
headline is the cohort's `all` row and the subgroups the NTA study headlined (§4, §5): drug
group, referral route, retention and how treatment ended. Three copies used to disagree
(the outcome table's metadata showed only drug group and retention; the report's markdown
listed the same five in another order); this order is the trend table's and the CLI's.

Exports `HEADLINE_DIMENSIONS`.
"""

HEADLINE_DIMENSIONS = ("all", "drug_group", "referral_route", "retention_band", "exit_group")
