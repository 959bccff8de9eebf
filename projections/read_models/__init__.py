"""Analyst read models (SPEC section 9): SQL tables kept by incremental handlers, one per
event type, in the store of the events. Drivers live in `consumers.projector*`."""
