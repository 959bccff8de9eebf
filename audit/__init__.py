"""Tamper evidence for auditors: anchors over the whole log, and verification."""
