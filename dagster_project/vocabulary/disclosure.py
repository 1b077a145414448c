"""The mark a published table shows in place of a suppressed cell (METHOD.md §6).

Exports `SUPPRESSED`.
"""

SUPPRESSED = "*"
