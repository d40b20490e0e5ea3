"""``hourbook``: the command line, with the demo, its walk-through and the seed catalogue."""
