#!/bin/sh
# wallclient offline installer: installs (or upgrades) wallclient on this wall PC from the
# folder beside this script that matches /etc/os-release, with no network at all.
#   sudo ./install.sh            安装或升级 / install or upgrade
#   sudo ./install.sh --check    只检查，不安装 / check only, change nothing
# It asks apt first, in a dry run, whether everything is here; if anything is missing,
# or this system is not one the bundle carries, it says so and changes nothing.
set -eu

# the wall, and ffmpeg, which it recommends (the demo's cameras: `wallclient demo`);
# packaging/offline.py carries exactly their closure. (x11-xserver-utils, its other
# Recommends, is on every desktop and not carried: its xrdb brings a C preprocessor.)
PACKAGES="wallclient ffmpeg"

here=$(cd "$(dirname "$0")" && pwd)
check_only=0
[ "${1:-}" = "--check" ] && check_only=1

say() { printf '%s\n' "$*" >&2; }
fail() { say "安装失败 / install failed: $*"; exit 1; }

os_release=${WALLCLIENT_OS_RELEASE:-/etc/os-release}  # (tests point it elsewhere)
[ -r "$os_release" ] || fail "没有 /etc/os-release，无法判断系统版本 / no /etc/os-release: cannot tell this system's release"
# shellcheck disable=SC1091
. "$os_release"
release="${ID:-unknown}-${VERSION_ID:-unknown}"
folder="$here/$release"
if [ ! -f "$folder/Packages" ]; then
    carried=$(cd "$here" && ls -d */ 2>/dev/null | tr -d / | grep -v "^wallclient$" | tr '\n' ' ')
    fail "本安装包不含 ${PRETTY_NAME:-此系统} 的软件包（含有：${carried}） / this bundle carries nothing for ${PRETTY_NAME:-this system} (it carries: ${carried}). Nothing was changed."
fi
[ "$(id -u)" = 0 ] || fail "请用 root 运行（sudo ./install.sh） / run as root (sudo ./install.sh). Nothing was changed."
[ "$(dpkg --print-architecture)" = amd64 ] || fail "本安装包只含 amd64 / this bundle is amd64 only. Nothing was changed."

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/parts"
echo "deb [trusted=yes] file:$here $release/" >"$work/sources.list"
# apt sees this folder and nothing else: not the system's sources, not its lists, and
# keeps its package cache in memory (the system's /var/cache/apt is not rewritten)
apt_opts="-o Dir::Etc::sourcelist=$work/sources.list -o Dir::Etc::sourceparts=$work/parts
 -o Dir::State::Lists=$work/lists -o APT::Get::List-Cleanup=0 -o Acquire::Languages=none
 -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache="

# shellcheck disable=SC2086
apt-get $apt_opts -qq update >"$work/update.log" 2>&1 ||
    { cat "$work/update.log" >&2; fail "读取安装包失败 / could not read the bundle's packages. Nothing was changed."; }

say "检查依赖 / checking that everything is here ($folder)…"
# shellcheck disable=SC2086
if ! apt-get $apt_opts -s -y --no-install-recommends install $PACKAGES >"$work/plan.log" 2>&1; then
    sed -n '/following packages have unmet\|Unable to locate\|Depends:\|E:/p' "$work/plan.log" >&2
    fail "缺少软件包，见上 / something the wall needs is not in this bundle (above). Nothing was changed."
fi
count=$(grep -c '^Inst ' "$work/plan.log" || true)
say "将安装或升级 $count 个软件包 / $count packages to install or upgrade"
if [ "$check_only" = 1 ]; then
    say "检查通过，未作改动 / check passed; nothing was changed"
    exit 0
fi

# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive apt-get $apt_opts -y -q \
    --no-install-recommends -o Dpkg::Options::=--force-confold install $PACKAGES
version=$(dpkg-query -W -f='${Version}' wallclient)
say "安装完成 / installed: wallclient $version"
say "下一步 / next: 编辑 /etc/wallclient/wall.toml，然后运行 wallclient doctor / edit /etc/wallclient/wall.toml, then run wallclient doctor"
