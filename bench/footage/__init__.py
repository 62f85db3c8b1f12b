"""The benchmark footage, composed deterministically from ../shared/media, and its ground truth.

    python -m bench.footage              # build what is missing or stale, verify it, summarise
    python -m bench.footage --force      # rebuild everything
    python -m bench.footage --verify     # re-run the dlib verification of cached footage

Writes to bench/out/ (git-ignored):
  visitors.mp4 + visitors.json   50 s, 1280x720, 25 fps: a still hallway with sensor noise and
                                 slow light drift; three visitors pass (one known, two unknown)
  empty.mp4 + empty.json         120 s of the same hallway with no one, but wind in the tree
                                 outside the window and a shadow sweeping across the room
  startup.mp4 + startup.json     the first second of empty.mp4: each tool's fixed start-up cost
  known_faces*/                  galleries (symlinks to ../shared/media photos, never copies)
  watcher*.yaml                  watcher configs for each scene (replay ignores `source`)

Everything is drawn from fixed seeds: the same version of this package always
makes the same frames. A video is rebuilt only when its JSON names another generator
key (GENERATOR_VERSION plus the hashes of the photos it uses).

The modules: scenes (format, visitors, scene and ground-truth types), hallway (the
background), cutouts (the visitors and their walk), render (frames, ground truth,
encoding), verify (the dlib check), loops (clips played back to back), build (files,
galleries, configs and the list of scenes); __main__ is the command line.
"""
