#!/usr/bin/env bash
# What `bento containerize --platform linux/arm64` needs on this amd64 machine, which reaches no container registry:
#   1. QEMU user emulation: Debian's qemu-user-static + binfmt-support, binfmt_misc mounted, qemu-aarch64 registered
#      with the F flag (the interpreter is opened at registration, so it works inside containers' own root file systems).
#   2. An arm64 stand-in of the base image, built like the amd64 one (base-image.sh): debootstrap --arch=arm64 of
#      bookworm minbase (its second stage runs under QEMU), then one BuildKit build for linux/arm64: the rootfs ADDed
#      FROM scratch, the python3 layer (apt-get under QEMU), the host CA bundle copied in.
#      Tagged python:3.11-slim-linux-arm64 (a tag names one image on Docker 20.10: python:3.11-slim is the amd64 one);
#      containerize takes it with `--base-image linux/arm64=python:3.11-slim-linux-arm64`.
#   3. The arm64 wheels the iris example needs (the wheelhouse's 1.4.15 set): pip download --only-binary=:all:
#      --platform manylinux2014_aarch64 into ${BENTO_WHEELHOUSE_ARM64:-$BENTO_TOOLS/wheelhouse-arm64}.
# Idempotent, each step stamped; a warm rerun takes about a second.
set -euo pipefail
BENTO_LOG_TAG=platform-arm64
# shellcheck source=SCRIPTDIR/../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
# shellcheck source=SCRIPTDIR/../lib/venv.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/venv.sh"

SUITE=bookworm
MIRROR="${BENTO_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
PY_PACKAGES=(python3 python3-venv python3-pip ca-certificates)
IMAGE=python:3.11-slim-linux-arm64
# Bump RECIPE when this script changes what ends up in the image.
RECIPE=1
KEY="$SUITE-arm64-minbase-r$RECIPE-$(printf '%s\n' "${PY_PACKAGES[@]}" | sha256sum | cut -c1-8)"
WORK="$BENTO_TOOLS/base-image/$KEY"
ROOTFS_TAR="$WORK/rootfs.tar"
IMAGE_TAR="$WORK/python-3.11-slim-linux-arm64.tar"
WHEELHOUSE_ARM64="${BENTO_WHEELHOUSE_ARM64:-$BENTO_TOOLS/wheelhouse-arm64}"
# The wheelhouse's 1.4.15 set (wheelhouse.sh REQS_1415): what the iris example installs.
REQS_ARM64=('bentoml==1.4.15' 'click<8.3' 'setuptools<81' scikit-learn numpy uv)
HOST_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
CA_ENV="SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt PIP_CERT=/etc/ssl/certs/ca-certificates.crt REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt"

image_id() { "$DOCKER" image inspect -f '{{.Id}}' "$1" 2>/dev/null || true; }

qemu() {
  apt_install qemu-user-static binfmt-support
  if ! mountpoint -q /proc/sys/fs/binfmt_misc; then
    log "mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc"
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  fi
  local entry=/proc/sys/fs/binfmt_misc/qemu-aarch64
  if [[ ! -f "$entry" ]] || ! grep -q '^enabled' "$entry"; then
    log "update-binfmts --enable qemu-aarch64"
    update-binfmts --enable qemu-aarch64 >&2 || true
    [[ -f "$entry" ]] || update-binfmts --import qemu-aarch64 >&2
  fi
  grep -q '^enabled' "$entry" || die "qemu-aarch64 is not registered in binfmt_misc ($entry)"
  grep -q '^flags: .*F' "$entry" || die "qemu-aarch64 is registered without the F flag: containers cannot use it ($(grep flags "$entry"))"
  log "QEMU: $(qemu-aarch64-static --version | head -n1), binfmt qemu-aarch64 $(grep '^flags' "$entry")"
}

build_rootfs() {
  if [[ -s "$ROOTFS_TAR" ]]; then
    log "arm64 rootfs cached: $ROOTFS_TAR ($(du -h "$ROOTFS_TAR" | cut -f1))"
    return 0
  fi
  mkdir -p "$WORK"
  local root="$WORK/rootfs.tmp"
  rm -rf "$root"
  log "debootstrap --arch=arm64 --variant=minbase $SUITE from $MIRROR (second stage under QEMU: a few minutes)"
  if ! debootstrap --arch=arm64 --variant=minbase "$SUITE" "$root" "$MIRROR" >"$WORK/debootstrap.log" 2>&1; then
    tail -n 20 "$WORK/debootstrap.log" >&2
    die "debootstrap failed; full log: $WORK/debootstrap.log"
  fi
  rm -rf "${root:?}"/dev/* "${root:?}"/proc/* "${root:?}"/sys/* "${root:?}"/run/* "${root:?}"/var/lib/apt/lists/* \
    "${root:?}"/var/cache/apt/* "${root:?}"/var/log/bootstrap.log "${root:?}"/usr/share/man/* "${root:?}"/usr/share/info/*
  : >"$root/etc/resolv.conf"
  tar --numeric-owner --xattrs -C "$root" -cf "$ROOTFS_TAR.tmp" .
  mv "$ROOTFS_TAR.tmp" "$ROOTFS_TAR"
  rm -rf "$root"
  log "arm64 rootfs written: $ROOTFS_TAR ($(du -h "$ROOTFS_TAR" | cut -f1))"
}

build_image() {
  # `docker import --platform linux/arm64` leaves Docker 20.10's image config at amd64, and BuildKit then looks for an
  # arm64 variant in a registry: the rootfs goes in with ADD in a build for linux/arm64 instead (FROM scratch takes
  # the build's platform).
  local ctx rc=0
  ctx=$(mktemp -d)
  cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM scratch
ADD rootfs.tar /
ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin
ENV LANG=C.UTF-8
ENV PIP_BREAK_SYSTEM_PACKAGES=1
RUN apt-get update \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${PY_PACKAGES[*]} \\
 && ln -sf /usr/bin/python3 /usr/local/bin/python \\
 && ln -sf /usr/bin/python3 /usr/local/bin/python3 \\
 && ln -sf /usr/bin/pip3 /usr/local/bin/pip \\
 && ln -sf /usr/bin/pip3 /usr/local/bin/pip3 \\
 && rm -f /usr/lib/python3.*/EXTERNALLY-MANAGED \\
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/apt/* /var/log/dpkg.log /root/.cache /usr/share/doc/* /usr/share/man/*
COPY host-ca-bundle.crt /etc/ssl/certs/ca-certificates.crt
ENV $CA_ENV
CMD ["python3"]
DOCKERFILE
  cp "$HOST_CA_BUNDLE" "$ctx/host-ca-bundle.crt"
  ln "$ROOTFS_TAR" "$ctx/rootfs.tar" 2>/dev/null || cp "$ROOTFS_TAR" "$ctx/rootfs.tar"
  log "docker build --platform linux/arm64: ADD the rootfs, apt-get install ${PY_PACKAGES[*]} under QEMU"
  DOCKER_BUILDKIT=1 "$DOCKER" build --platform linux/arm64 --progress=plain -t "$IMAGE" "$ctx" >"$WORK/build.log" 2>&1 || rc=$?
  rm -rf "$ctx"
  if ((rc != 0)); then
    tail -n 15 "$WORK/build.log" >&2
    die "arm64 image build failed (full log $WORK/build.log)"
  fi
}

verify_image() {
  local out arch
  arch=$("$DOCKER" image inspect -f '{{.Os}}/{{.Architecture}}' "$IMAGE")
  [[ "$arch" == linux/arm64 ]] || die "$IMAGE is $arch, not linux/arm64"
  out=$("$DOCKER" run --rm --platform linux/arm64 --network none "$IMAGE" sh -c \
    'uname -m && python --version && python3 -m venv /tmp/v && /tmp/v/bin/python -c "import ssl"' 2>&1) ||
    die "arm64 image check failed: $out"
  log "arm64 image check ok: $(echo "$out" | tr '\n' ' ')"
}

base_image() {
  require_docker
  local id
  id=$(image_id "$IMAGE")
  if [[ -n "$id" ]] && stamp_ok base-image-arm64 "$KEY $id"; then
    log "$IMAGE already built ($KEY, ${id:7:12}); nothing to do"
    return 0
  fi
  if [[ -s "$IMAGE_TAR" ]] && stamp_ok base-image-arm64-tar "$KEY"; then
    log "docker load $IMAGE_TAR"
    "$DOCKER" load -q -i "$IMAGE_TAR" >&2
  else
    build_rootfs
    build_image
    verify_image
    log "docker save -> $IMAGE_TAR"
    "$DOCKER" save -o "$IMAGE_TAR.tmp" "$IMAGE"
    mv "$IMAGE_TAR.tmp" "$IMAGE_TAR"
    # The rootfs is in the saved image; keep only the image tar.
    rm -f "$ROOTFS_TAR"
    stamp_set base-image-arm64-tar "$KEY"
  fi
  id=$(image_id "$IMAGE")
  [[ -n "$id" ]] || die "$IMAGE missing after build"
  stamp_set base-image-arm64 "$KEY $id"
  log "$IMAGE ready: ${id:7:12}, $("$DOCKER" image inspect -f '{{.Size}}' "$IMAGE" | awk '{printf "%.1f MB", $1/1e6}')"
}

wheels() {
  local py key stamp="$WHEELHOUSE_ARM64/.bento-provision-stamp"
  py=$(host_python)
  key="cp311 manylinux2014_aarch64 | ${REQS_ARM64[*]}"
  if stamp_file_ok "$stamp" "$key"; then
    log "arm64 wheelhouse up to date: $WHEELHOUSE_ARM64"
    return 0
  fi
  mkdir -p "$WHEELHOUSE_ARM64"
  local logf="$WHEELHOUSE_ARM64/.pip-download.log"
  log "pip download --only-binary=:all: --platform manylinux2014_aarch64 ${REQS_ARM64[*]} -> $WHEELHOUSE_ARM64"
  run_logged "$logf" "pip download" "$py" -m pip download --disable-pip-version-check --only-binary=:all: --platform manylinux2014_aarch64 \
    --platform manylinux_2_28_aarch64 --python-version 3.11 --implementation cp --abi cp311 --abi abi3 --abi none \
    --dest "$WHEELHOUSE_ARM64" "${REQS_ARM64[@]}"
  local bad
  bad=$(find "$WHEELHOUSE_ARM64" -name '*.whl' -printf '%f\n' | grep -E -- '(x86_64|macosx|win_amd64)' || true)
  [[ -z "$bad" ]] || die "wheels for the wrong platform: $bad"
  printf '%s' "$key" >"$stamp"
  log "arm64 wheelhouse: $(find "$WHEELHOUSE_ARM64" -name '*.whl' | wc -l) wheels, $(du -sh "$WHEELHOUSE_ARM64" | cut -f1)"
}

main() {
  [[ $EUID -eq 0 ]] || die "run as root (apt-get, mount and binfmt need it)"
  qemu
  base_image
  wheels
}

timed "platform-arm64.sh" main
