"""Supervised programme listings (issue #13): finder, support triage, problem reports and the
Open Referral (HSDS) open data. The models live in resources/models.py with the others."""
