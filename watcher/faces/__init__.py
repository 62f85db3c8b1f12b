"""Faces: the dlib engine and the gallery of known people."""
