"""watcher on 64-bit ARM under qemu user-mode emulation: the same events as on x86-64."""
