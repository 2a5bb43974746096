"""Command-line interface: `hri-emo <command>`, thin wrappers over the Python API."""
