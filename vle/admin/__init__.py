"""Administration: organisations, users (one by one and from CSV), the audit
log, and personal data (download and erasure)."""
