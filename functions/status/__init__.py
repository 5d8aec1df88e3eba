"""Status posts: the author's story, followers' feeds and the `status_fanout` flow's functions."""
