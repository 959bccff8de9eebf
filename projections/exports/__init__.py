"""De-identified exports built from the read models: a TEDS-style discharge CSV and FHIR
Bundles (R4B or R5). Neither loads an aggregate; see docs/analytics.md for the formats."""
