#!/usr/bin/env bash
# watcher on 64-bit ARM, for real: a Debian 12 arm64 root run under qemu user-mode
# emulation, the project installed in it from PyPI's aarch64 wheels, and `watcher
# replay` of the shared clips there and on this host, events compared.
#
#   sudo bash bench/arm64/run.sh                 # every clip of ../shared/media/video
#   sudo bash bench/arm64/run.sh --clips single_face.mp4,no_face.mp4
#
# Slow (emulation: tens of times slower than native) and not a test: run by hand.
# Idempotent: the root, the venv and the installed tree are reused until HEAD moves.
# Environment: WATCHER_ARM64_ROOT (default /var/tmp/watcher-arm64), DEBIAN_MIRROR,
# WATCHER_BENCH_MEDIA (default ../shared/media beside the project), PYTHON (the host
# venv's interpreter, default .venv/bin/python). Other arguments go to `bench.arm64`.
set -euo pipefail

PROJECT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ROOT=${WATCHER_ARM64_ROOT:-/var/tmp/watcher-arm64}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
MEDIA=$(cd "${WATCHER_BENCH_MEDIA:-$PROJECT/../shared/media}" && pwd)
PYTHON=${PYTHON:-$PROJECT/.venv/bin/python}
OUT=$PROJECT/bench/out/arm64
# Inside the root: the tree, its venv, the media (read-only) and the replays' work.
SRC=/opt/watcher/src
VENV=/opt/watcher/venv
MEDIA_IN=/srv/media
# The compiled dependencies: a wheel or nothing. dlib from source takes hours under
# emulation, so pip must fail (and say which) rather than start that build.
WHEELS_ONLY=dlib-bin,av,opencv-python-headless,numpy,pydantic-core,SQLAlchemy,greenlet,PyYAML,MarkupSafe

say() { printf '\n== %s\n' "$*" >&2; }
die() { printf 'bench/arm64: %s\n' "$*" >&2; exit 1; }
in_root() { chroot "$ROOT" /usr/bin/env -i HOME=/root LANG=C.UTF-8 \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"; }

[ "$(id -u)" = 0 ] || die "needs root (apt-get, debootstrap, mount, chroot)"
[ -x "$PYTHON" ] || die "no host venv at $PYTHON (set PYTHON=...)"
[ -d "$MEDIA/video" ] || die "no clips in $MEDIA/video"

say "host tools: qemu-user-static, debootstrap"
if ! command -v debootstrap >/dev/null || [ ! -x /usr/bin/qemu-aarch64-static ]; then
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q qemu-user-static debootstrap binfmt-support
fi

say "binfmt_misc: aarch64 binaries run through qemu"
if ! mountpoint -q /proc/sys/fs/binfmt_misc; then
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
fi
# Debian registers qemu-user-static itself when binfmt_misc is mounted at install
# time; in a container it often was not, so enable it here.
if ! grep -qs '^enabled' /proc/sys/fs/binfmt_misc/qemu-aarch64; then
    update-binfmts --enable qemu-aarch64
fi
# The F flag: the kernel opens the interpreter now, so it works inside the chroot
# without a copy of qemu there.
grep -q '^flags:.*F' /proc/sys/fs/binfmt_misc/qemu-aarch64 \
    || die "qemu-aarch64 is registered without the F flag: copy qemu-aarch64-static into $ROOT/usr/bin"

say "Debian 12 arm64 root in $ROOT"
if [ ! -e "$ROOT/.watcher-debootstrap-done" ]; then
    mkdir -p "$ROOT"
    nice -n 10 debootstrap --arch=arm64 --variant=minbase \
        --include=python3,python3-venv,ca-certificates bookworm "$ROOT" "$MIRROR"
    touch "$ROOT/.watcher-debootstrap-done"
fi
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"  # pip reaches PyPI from inside
# A network that inspects TLS (a company proxy) has its own CA, which the host trusts
# through /usr/local/share/ca-certificates: the root's pip must trust it too.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "$ROOT/usr/local/share/ca-certificates/"
    in_root update-ca-certificates >/dev/null 2>&1
fi

# Mounts for the run; a run cut short may have left them, so mount only what is missing.
mount_once() { mountpoint -q "$2" || mount "${@:3}" "$1" "$2"; }
cleanup() {
    for m in "$ROOT$MEDIA_IN" "$ROOT/dev" "$ROOT/proc"; do
        if mountpoint -q "$m"; then umount "$m" || umount -l "$m"; fi
    done
}
trap cleanup EXIT
mkdir -p "$ROOT$MEDIA_IN"
mount_once proc "$ROOT/proc" -t proc
mount_once /dev "$ROOT/dev" --bind
if ! mountpoint -q "$ROOT$MEDIA_IN"; then
    mount --bind "$MEDIA" "$ROOT$MEDIA_IN"
    mount -o remount,bind,ro "$ROOT$MEDIA_IN"
fi

say "the tree at HEAD into $ROOT$SRC"
COMMIT=$(git -C "$PROJECT" rev-parse HEAD)
if [ "$(cat "$ROOT$SRC/.commit" 2>/dev/null)" != "$COMMIT" ]; then
    rm -rf "$ROOT$SRC"
    mkdir -p "$ROOT$SRC"
    git -C "$PROJECT" archive HEAD | tar -x -C "$ROOT$SRC"
    echo "$COMMIT" >"$ROOT$SRC/.commit"
fi

say "venv and the project from PyPI's aarch64 wheels (in the root, emulated)"
[ -x "$ROOT$VENV/bin/python" ] || in_root nice -n 10 python3 -m venv "$VENV"
if [ "$(cat "$ROOT$VENV/.installed-commit" 2>/dev/null)" != "$COMMIT" ]; then
    start=$(date +%s)
    in_root nice -n 10 "$VENV/bin/pip" install -q --upgrade pip
    in_root nice -n 10 "$VENV/bin/pip" install -q --only-binary="$WHEELS_ONLY" "$SRC" \
        || die "pip install failed in the arm64 root (a missing aarch64 wheel is named above)"
    echo "$COMMIT" >"$ROOT$VENV/.installed-commit"
    echo "install: $(($(date +%s) - start)) s under qemu" >&2
fi
mkdir -p "$OUT"
in_root "$VENV/bin/pip" freeze >"$OUT/arm64-freeze.txt"
{
    echo "root: $(cat "$ROOT/etc/debian_version") $(in_root uname -m), $(in_root "$VENV/bin/python" --version)"
    echo "qemu: $(/usr/bin/qemu-aarch64-static --version | head -1)"
    echo "host: $(uname -m), $("$PYTHON" --version)"
    echo "commit: $COMMIT"
} >"$OUT/platform.txt"
cat "$OUT/platform.txt" >&2

say "replays: x86-64 (host venv) and arm64 (qemu), events compared"
cd "$PROJECT"
nice -n 10 "$PYTHON" -m bench.arm64 --root "$ROOT" --media "$MEDIA" --media-in-root "$MEDIA_IN" \
    --src "$SRC" --venv "$VENV" --out "$OUT" "$@"
