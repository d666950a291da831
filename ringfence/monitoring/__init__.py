"""Fraud monitoring of call records: CDRs in (files, streams, HTTP batches, a NATS subject), the rules engine over
them against the hotlists in force, alerts recorded as incidents, bad rows kept in the quarantine."""
