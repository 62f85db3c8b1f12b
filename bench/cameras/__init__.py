"""Cameras per machine (issue 15, goal 3): many RTSP cameras in one `watcher run`."""
