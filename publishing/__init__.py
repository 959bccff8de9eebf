"""The producer: the outbox relay that publishes the event log to Kafka (CloudEvents on the
events topic, journey summaries on the state topic, anchor heads), and the contracts that
describe what it publishes (`python -m publishing.contracts` writes contracts/)."""
