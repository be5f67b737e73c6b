"""Label Studio round trip: labeling config, a local server, push of pre-labels, pull of human labels.

Modules are split by side effect: ``config`` and ``convert`` are pure, ``server`` manages a
process, ``client`` talks HTTP, ``push``/``pull`` combine them with the corpus.
"""
