"""Services that start, stop and report on the parts of the claude-mem stack.

    store.py   the queue store: managed (ours), external (a URL) or docker
"""
