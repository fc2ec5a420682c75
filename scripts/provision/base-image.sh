#!/usr/bin/env bash
# Build the base image `python:3.11-slim` (and `python:3.11`) locally, since this
# machine cannot reach a container registry. It is Debian bookworm (debootstrap
# minbase) + Debian's python3 3.11, shaped like the official image where cheap.
#
# Steps, each cached:
#   1. debootstrap --variant=minbase bookworm -> $BENTO_TOOLS/base-image/<key>/rootfs.tar
#   2. docker import -> debian:bookworm-slim (also tagged bento-provision/debian-minbase:bookworm)
#   3. Dockerfile FROM that, apt-get install python3... (container network); if the
#      container cannot reach the apt mirror, install inside the chroot instead.
#   4. docker save -> $BENTO_TOOLS/base-image/<key>/python-3.11-slim.tar, so a fresh
#      daemon with a warm $BENTO_TOOLS only needs `docker load`.
# A rerun with the image present (same id as recorded) does nothing.
set -euo pipefail
BENTO_LOG_TAG=base-image
# shellcheck source=SCRIPTDIR/../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

SUITE=bookworm
MIRROR="${BENTO_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
PY_PACKAGES=(python3 python3-venv python3-pip ca-certificates)
IMAGE=python:3.11-slim
EXTRA_TAGS=(python:3.11)
MINBASE_IMAGE=bento-provision/debian-minbase:$SUITE
# Bump RECIPE when this script changes what ends up in the image.
RECIPE=4
KEY="$SUITE-minbase-r$RECIPE-$(printf '%s\n' "${PY_PACKAGES[@]}" | sha256sum | cut -c1-8)"
WORK="$BENTO_TOOLS/base-image/$KEY"
ROOTFS_TAR="$WORK/rootfs.tar"
IMAGE_TAR="$WORK/python-3.11-slim.tar"

image_id() { "$DOCKER" image inspect -f '{{.Id}}' "$1" 2>/dev/null || true; }

# The config the official debian:*-slim images ship: no docs/man/locales, no apt caches.
write_slim_config() {
  local root="$1"
  mkdir -p "$root/etc/dpkg/dpkg.cfg.d" "$root/etc/apt/apt.conf.d" "$root/etc/apt/sources.list.d"
  cat >"$root/etc/dpkg/dpkg.cfg.d/docker" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
CFG
  cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'CFG'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CFG
  printf 'Acquire::Languages "none";\n' >"$root/etc/apt/apt.conf.d/docker-no-languages"
  printf 'APT::AutoRemove::SuggestsImportant "false";\n' >"$root/etc/apt/apt.conf.d/docker-autoremove-suggests"
  rm -f "$root/etc/apt/sources.list"
  cat >"$root/etc/apt/sources.list.d/debian.sources" <<CFG
Types: deb
URIs: http://deb.debian.org/debian
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
CFG
}

slim_cleanup() {
  local root="$1"
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* "$root"/var/cache/debconf/*-old \
    "$root"/var/log/apt/* "$root"/var/log/dpkg.log "$root"/var/log/bootstrap.log "$root"/var/log/alternatives.log \
    "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/locale/* "$root"/usr/share/lintian/* \
    "$root"/tmp/* "$root"/root/.cache
  find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
  find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
}

build_rootfs() {
  if [[ -s "$ROOTFS_TAR" ]]; then
    log "rootfs cached: $ROOTFS_TAR ($(du -h "$ROOTFS_TAR" | cut -f1))"
    return 0
  fi
  command -v debootstrap >/dev/null || die "debootstrap missing; run scripts/provision/docker.sh first"
  mkdir -p "$WORK"
  local root="$WORK/rootfs.tmp"
  rm -rf "$root"
  log "debootstrap --variant=minbase $SUITE from $MIRROR (takes a minute or two)"
  if ! debootstrap --variant=minbase "$SUITE" "$root" "$MIRROR" >"$WORK/debootstrap.log" 2>&1; then
    tail -n 20 "$WORK/debootstrap.log" >&2
    die "debootstrap failed; full log: $WORK/debootstrap.log"
  fi
  write_slim_config "$root"
  slim_cleanup "$root"
  rm -rf "${root:?}"/dev/* "${root:?}"/proc/* "${root:?}"/sys/* "${root:?}"/run/*
  : >"$root/etc/resolv.conf"
  tar --numeric-owner --xattrs -C "$root" -cf "$ROOTFS_TAR.tmp" .
  mv "$ROOTFS_TAR.tmp" "$ROOTFS_TAR"
  rm -rf "$root"
  log "rootfs written: $ROOTFS_TAR ($(du -h "$ROOTFS_TAR" | cut -f1))"
}

import_minbase() {
  log "docker import $ROOTFS_TAR -> $MINBASE_IMAGE"
  "$DOCKER" import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' \
    "$ROOTFS_TAR" "$MINBASE_IMAGE" >/dev/null
  "$DOCKER" tag "$MINBASE_IMAGE" debian:bookworm-slim
}

# The part of the recipe shared by the Dockerfile and the chroot fallback.
PY_SETUP="ln -sf /usr/bin/python3 /usr/local/bin/python \
 && ln -sf /usr/bin/python3 /usr/local/bin/python3 \
 && ln -sf /usr/bin/pip3 /usr/local/bin/pip \
 && ln -sf /usr/bin/pip3 /usr/local/bin/pip3 \
 && rm -f /usr/lib/python3.*/EXTERNALLY-MANAGED \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/apt/* /var/log/dpkg.log /root/.cache"
# The stand-in trusts what this host trusts: here every HTTPS host (PyPI included) is reached through a
# proxy whose CA is only in the host's bundle. A user's real python:3.11-slim reaches PyPI with public CAs;
# with this, builds that download (e.g. the real `bentoml containerize`) behave the same here.
HOST_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
CA_ENV="SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt PIP_CERT=/etc/ssl/certs/ca-certificates.crt REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt"
IMAGE_CHANGES=(
  'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin'
  'ENV LANG=C.UTF-8'
  'ENV PIP_BREAK_SYSTEM_PACKAGES=1'
  'CMD ["python3"]'
)

build_with_dockerfile() {
  local ctx
  ctx=$(mktemp -d)
  {
    echo "FROM $MINBASE_IMAGE"
    printf '%s\n' "${IMAGE_CHANGES[@]:0:3}"
    echo "RUN apt-get update \\"
    echo " && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${PY_PACKAGES[*]} \\"
    echo " && $PY_SETUP"
    echo "COPY host-ca-bundle.crt /etc/ssl/certs/ca-certificates.crt"
    echo "ENV $CA_ENV"
    printf '%s\n' "${IMAGE_CHANGES[@]:3}"
  } >"$ctx/Dockerfile"
  cp "$HOST_CA_BUNDLE" "$ctx/host-ca-bundle.crt"
  log "docker build (BuildKit, bridge network) FROM $MINBASE_IMAGE: apt-get install ${PY_PACKAGES[*]}"
  local rc=0
  DOCKER_BUILDKIT=1 "$DOCKER" build --progress=plain -t "$IMAGE" "$ctx" >"$WORK/build.log" 2>&1 || rc=$?
  rm -rf "$ctx"
  if ((rc != 0)); then
    tail -n 15 "$WORK/build.log" >&2
    log "Dockerfile build failed (full log $WORK/build.log)"
  fi
  return $rc
}

build_in_chroot() {
  local root="$WORK/chroot.tmp"
  rm -rf "$root" && mkdir -p "$root"
  log "fallback: installing ${PY_PACKAGES[*]} inside a chroot of the rootfs"
  tar --numeric-owner -C "$root" -xf "$ROOTFS_TAR"
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  mount -t proc proc "$root/proc"
  local rc=0
  chroot "$root" /bin/sh -c "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${PY_PACKAGES[*]} && $PY_SETUP" \
    >"$WORK/chroot.log" 2>&1 || rc=$?
  umount "$root/proc"
  if ((rc != 0)); then
    tail -n 15 "$WORK/chroot.log" >&2
    die "chroot install failed (full log $WORK/chroot.log)"
  fi
  : >"$root/etc/resolv.conf"
  cp "$HOST_CA_BUNDLE" "$root/etc/ssl/certs/ca-certificates.crt"
  slim_cleanup "$root"
  local change args=()
  for change in "${IMAGE_CHANGES[@]}" "ENV $CA_ENV"; do args+=(--change "$change"); done
  tar --numeric-owner --xattrs -C "$root" -c . | "$DOCKER" import "${args[@]}" - "$IMAGE" >/dev/null
  rm -rf "$root"
}

verify_image() {
  local out
  # shellcheck disable=SC2016 # expanded by the container's shell
  out=$("$DOCKER" run --rm --network none "$IMAGE" sh -c \
    'python --version && pip --version >/dev/null && python3 -m venv /tmp/v && /tmp/v/bin/python -c "import ssl, sys; print(sys.prefix)" && test "$LANG" = C.UTF-8 && test "$PIP_BREAK_SYSTEM_PACKAGES" = 1' 2>&1) ||
    die "image check failed: $out"
  log "image check ok: $(echo "$out" | head -n1), venv works"
}

main() {
  require_docker
  local id
  id=$(image_id "$IMAGE")
  if [[ -n "$id" ]] && stamp_ok base-image "$KEY $id"; then
    log "$IMAGE already built ($KEY, ${id:7:12}); nothing to do"
    return 0
  fi
  if [[ -s "$IMAGE_TAR" ]] && stamp_ok base-image-tar "$KEY"; then
    log "docker load $IMAGE_TAR"
    "$DOCKER" load -q -i "$IMAGE_TAR" >&2
  else
    build_rootfs
    import_minbase
    build_with_dockerfile || build_in_chroot
    local t
    for t in "${EXTRA_TAGS[@]}"; do "$DOCKER" tag "$IMAGE" "$t"; done
    verify_image
    log "docker save -> $IMAGE_TAR"
    "$DOCKER" save -o "$IMAGE_TAR.tmp" "$IMAGE" "${EXTRA_TAGS[@]}" debian:bookworm-slim "$MINBASE_IMAGE"
    mv "$IMAGE_TAR.tmp" "$IMAGE_TAR"
    stamp_set base-image-tar "$KEY"
  fi
  id=$(image_id "$IMAGE")
  [[ -n "$id" ]] || die "$IMAGE missing after build"
  stamp_set base-image "$KEY $id"
  log "$IMAGE ready: ${id:7:12}, $("$DOCKER" image inspect -f '{{.Size}}' "$IMAGE" | awk '{printf "%.1f MB", $1/1e6}')"
}

timed "base-image.sh" main
