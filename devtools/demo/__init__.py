"""Demo data: a synthetic, deterministic cohort of patients (`journey demo`, benchmarks)."""
