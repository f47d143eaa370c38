// HTTP/3 layer: not written yet (issue 6).
