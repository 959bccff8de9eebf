"""`bench_relay --pure-python-checksums` (never installed in the service): bench_relay puts
this directory first on PYTHONPATH and starts again, so that in it and in every process it
starts (the relay, the consumer) `import crc32c` fails, and kafka-python checksums record
batches in pure Python, as it does where the `crc32c` package is missing."""

import sys

sys.modules["crc32c"] = None  # type: ignore[assignment]  # `import crc32c` raises ImportError
