"""The bulk import: commands decided in worker processes, stored in large batches."""
