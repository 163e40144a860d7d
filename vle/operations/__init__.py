"""Operations: what an operator runs and watches (health, backups, metrics)."""
