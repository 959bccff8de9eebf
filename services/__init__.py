"""Application services: the use cases the edges (CLI, HTTP API) and the benchmarks call,
and the composition root (`services.runtime.Runtime`) that builds and closes what they use."""
