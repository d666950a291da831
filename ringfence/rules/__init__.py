"""The rules engine over call records: built-in IRSF and Wangiri rules, custom rules, batch and streaming modes."""
