// WebTransport layer: not written yet.
