"""The embeddable widget for partner websites."""
