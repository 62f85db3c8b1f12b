"""The built-in demo camera: a generated scene that real face photos walk through."""

from __future__ import annotations

from collections.abc import Iterator

import av

from watcher.source.base import Chunk, Frame, Pacer, Source, SourceError, StreamInfo
from watcher.source.encoder import RawEncoder


class DemoSource(Source):
    """Plays DemoScene in real time (or as fast as possible with paced=False), looping for ever."""

    def __init__(self, *, paced: bool = True, max_frames: int | None = None) -> None:
        self.paced = paced
        self._max_frames = max_frames
        self._scene: object | None = None
        self._encoder: RawEncoder | None = None
        self._index = 0  # kept across reopenings: media time never goes back

    @property
    def description(self) -> str:
        """Names the source in logs."""
        return "demo scene"

    def open(self) -> StreamInfo:
        """Build the scene; fails with a clear line when the demo extra is missing."""
        from watcher.source.demo_photos import DemoUnavailable
        from watcher.source.demo_scene import DemoScene

        try:
            scene = DemoScene()
            scene.frame(0)
        except DemoUnavailable as exc:
            raise SourceError(str(exc)) from None
        self._scene = scene
        self._encoder = RawEncoder(scene.width, scene.height, scene.fps)
        return StreamInfo("h264", self._encoder.width, self._encoder.height, scene.fps)

    def chunks(self) -> Iterator[Chunk]:
        """Yield one encoded frame per chunk, paced at the scene's frame rate."""
        from watcher.source.demo_scene import DemoScene

        scene, encoder = self._scene, self._encoder
        if not isinstance(scene, DemoScene) or encoder is None:
            raise SourceError("demo source not open")
        pacer = Pacer() if self.paced else None
        while self._max_frames is None or self._index < self._max_frames:
            t = self._index / scene.fps
            if pacer is not None:
                pacer.wait(t)
            image = av.VideoFrame.from_ndarray(scene.frame(self._index), format="rgb24")
            self._index += 1
            yield Chunk(packets=encoder.encode(image, t), frames=[Frame(image, t)])

    def close(self) -> None:
        """Nothing to release."""
        self._scene = None
