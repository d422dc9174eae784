// anchors the shared precompiled header target; it has no code of its own
