"""Cohort analytics (SPEC section 9) over the read models (`rm_` tables), as of an instant T.

One module per question; each runs SQL over the read models plus light Python over the
(small, grouped) results. Nothing here loads an aggregate or an event history. The rules
are the journey projection's (SPEC section 6) as restated in docs/read-models.md; the
figures and their definitions are documented in docs/analytics.md."""
