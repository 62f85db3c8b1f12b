"""The pipeline: wires a source through the buffer, faces and decider to the recorder and store."""
