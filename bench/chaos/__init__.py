"""A seeded, bounded chaos soak (issue 12): the real `watcher run` under faults, then an audit.

    python -m bench.chaos                         # 30 minutes, 3 cameras, a random seed
    python -m bench.chaos --minutes 3 --seed 7    # a short shake-out, the same faults again

The cameras (`--cameras N` takes them in this order, then again):

- `bframes`: the bench's visitors scene (bench/out/visitors.mp4: 50 s, 720p 25 fps,
  an unknown woman at 5.3 s, the known visitor at 20.3 s, unknown Biden at 35.2 s)
  re-encoded in H.264 with a fixed I B B B P pattern, served looping by the tests'
  GStreamer RTSP server (tests/rtsp/) on 127.0.0.1;
- `hevc`: the same in HEVC with B-frames (tests/rtsp/hevc.py);
- `mjpeg`: a broken HTTP MJPEG camera in this process (bench/chaos/mjpeg.py), live, the
  scene at 640x360 and 10 fps;
- `h264`: visitors.mp4 as it is (x264's adaptive B-frames).

watcher runs with its default faces/record settings and the bench gallery (the known
visitor's photo, copied), its recordings and database on a small tmpfs of their own
(bench/chaos/disk.py), from a snapshot of the committed code (bench/chaos/daemon.py).
Faults are drawn from `--seed`, one at a time after a quiet 15-45 s, none in the last
minute (bench/chaos/faults.py): RTSP servers frozen (SIGSTOP, 2-40 s) or killed
(1-30 s, then started again on their port), watcher SIGKILLed or SIGTERMed (started
again 1-10 s later), the disk filled to its last byte for 20-60 s, and the MJPEG
camera sending garbage, a 1x1 picture, half a JPEG, pictures of another size,
stalling or dropping its connections. The wall-clock length is bounded by --minutes
(plus the set-up and the audit); every process started is killed at the end.

Then watcher gets a SIGTERM and the audit (bench/chaos/truth.py, audit.py,
timing.py): which appearances of unknown visitors were expected (watcher and the
camera both up throughout, by the footage's ground truth and each camera's witness),
recorded, lost, duplicated; rows left open; every clip decoded with PyAV; files
without rows and rows without files; PRAGMA integrity_check; watcher's RSS; tracebacks
and ERROR lines in its log; and from the log lines, how soon each fault was noticed
and how soon watcher was back.

Writes bench/out/chaos.md and bench/out/chaos.json; the run's log, config, database
and any unplayable clip stay in bench/out/chaos/run/.
"""
