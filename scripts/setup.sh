#!/usr/bin/env bash
# Installs every wmhost dependency from Debian 12's archive. Idempotent and non-interactive.
set -euo pipefail

# Other systems (GPU machines with pip's PyTorch) bring their own packages: README, "Building by
# hand, other machines". WM_SKIP_SETUP=1 skips this on Debian too.
. /etc/os-release 2> /dev/null || true
if [ "${WM_SKIP_SETUP:-0}" = 1 ] || [ "${ID:-}" != debian ]; then
  echo "setup: skipped on ${PRETTY_NAME:-this system}${WM_SKIP_SETUP:+ (WM_SKIP_SETUP=$WM_SKIP_SETUP)};" \
       "the dependencies are listed in README.md, \"Building by hand, other machines\""
  exit 0
fi

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libtorch-dev libopenblas0-openmp
  libmujoco-dev libqhull-dev libosmesa6-dev libegl1 libegl-mesa0
  libavcodec-dev libavformat-dev libswscale-dev libavutil-dev ffmpeg
  libboost-dev
  libyaml-cpp-dev libspdlog-dev libgtest-dev libgmock-dev libgloo-dev libpng-dev
  python3 python3-torch python3-torchvision python3-numpy python3-scipy python3-pil
  python3-av python3-sklearn
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages already installed"
  exit 0
fi

sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
