"""Real-time latency of a live camera: an unknown face on screen -> its event row in the database.

    python -m bench.latency                      # 12 unknown appearances (~4 min)
    python -m bench.latency --appearances 20

Issue 3, item 6: one 720p camera at 25 fps over RTSP on this machine; from the first
frame in which an unknown face is visible to the event's database row, median under
1.5 s over at least 10 appearances; and the clip starts at least `pre_capture_s`
before that frame.

The camera: the RTSP server the tests use (tests/rtsp/harness.py, GStreamer on
127.0.0.1) streaming, looped, bench/out/latency/visitors-loop.mp4: the two unknown
visitors of bench/out/visitors.mp4 (bench.footage), each cut out with the empty hallway
around them (remuxed, not re-encoded; each piece ends with the keyframe that follows
it, a one-frame GOP), so one round of 32.08 s holds two unknown appearances. A round
is not a whole number of analysis slots (0.2 s at analyse_fps 5): from one round to
the next an arrival falls at another point between two analysed frames, as real
visitors do. `watcher run` watches it with watcher's default faces/record settings
and the bench gallery (the known visitor's photo).

Mapping media time to wall time. The server streams in real time and loops with
timestamps that keep increasing, so a frame's stream position is `round * period +
its time in the file`. A witness (a plain PyAV client that only demuxes) connects
first, so the shared stream starts from the file's beginning for it and its packet
timestamps are stream positions; it notes when each packet reaches it. The arrival
frame of an appearance "is visible" when its packet reached the witness: the
earliest moment any client on this machine could have it (for B-frames the decoder
shows it up to two frames later, so the latency is, if anything, overstated by that).
The daemon joins the stream a few seconds later; its own media clock is not used.
The database row's time is events.created_at, set by the daemon's writer thread when
it inserts the row. Each appearance whose arrival comes at least pre_capture_s + 1 s
after the daemon said "connected to" is measured.

The clip check compares pictures, not clocks: the clip's first frame (a keyframe,
remuxed untouched) decodes to exactly one keyframe of the looped file, which gives
its position; the lead is the arrival minus that position. The same position tells
how far the daemon's clip_started_at is from the true wall time of that frame.

Writes bench/out/latency.md (the table, date and machine) and bench/out/latency.json
(every figure); the daemon's log is bench/out/latency/daemon.log.
"""
