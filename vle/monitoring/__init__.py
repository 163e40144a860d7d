"""The network's figures and the programme indicators, read across domains."""
