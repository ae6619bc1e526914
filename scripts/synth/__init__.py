"""Synthetic plates, scenes and clips (no third-party imagery), and plate swaps into real scenes."""
