"""Issue 15's bench: what watching costs with limited decoding, next to the decode floor.

    python -m bench.decoding          # replays: floor vs `decoding: full` vs `limited`
    python -m bench.decoding.live     # live over loopback RTSP: steady-state CPU

The files are bench.footage.variants's (the empty and visitors scenes at other
keyframe intervals, with B-frames, in H.265, at a constant bitrate, and ten minutes
of empty hallway) plus the bench's own empty.mp4 and visitors.mp4.
Modules: tools (configs and commands), summary (medians, ratios, events), report
(decoding.md), live (the RTSP measurement), __main__ (the replay run).
"""
