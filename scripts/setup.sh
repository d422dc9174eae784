#!/usr/bin/env bash
# Installs every wmhost dependency from the Debian 12 or Ubuntu archive (apt). Idempotent and
# non-interactive.
set -euo pipefail

# Debian, Ubuntu and their derivatives (ID_LIKE names debian) install with apt; other systems (GPU
# machines with pip's PyTorch) bring their own packages: README, "Building by hand, other
# machines". WM_SKIP_SETUP=1 skips this everywhere.
. /etc/os-release 2> /dev/null || true
case " ${ID:-} ${ID_LIKE:-} " in
  *" debian "* | *" ubuntu "*) apt_system=1 ;;
  *) apt_system=0 ;;
esac
if [ "${WM_SKIP_SETUP:-0}" = 1 ] || [ "$apt_system" != 1 ]; then
  echo "setup: skipped on ${PRETTY_NAME:-this system}${WM_SKIP_SETUP:+ (WM_SKIP_SETUP=$WM_SKIP_SETUP)};" \
       "the dependencies are listed in README.md, \"Building by hand, other machines\""
  exit 0
fi

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libtorch-dev libopenblas0-openmp
  libmujoco-dev libqhull-dev libosmesa6-dev libegl1 libegl-mesa0
  libavcodec-dev libavformat-dev libswscale-dev libavutil-dev ffmpeg
  libboost-dev libboost-program-options-dev libeigen3-dev zlib1g-dev
  libyaml-cpp-dev libspdlog-dev libgtest-dev libgmock-dev libgloo-dev
  python3 python3-torch python3-torchvision python3-numpy python3-scipy python3-pil
  python3-av python3-sklearn python3-yaml
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
