# The two set-up commands: `make demo` and `make test`. Both install what is missing
# (Debian packages, then a .venv with the project and its test extras) and are quick
# when everything is there.

SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
SUDO  := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# libvlc + plugins, ffmpeg, Xvfb, the X/EGL/font libraries PySide6 needs, a CJK font
# (docs/field-notes.md says why); apt-ftparchive and xz: the offline installer's tests
# build small bundles (docs/packaging.md).
DEB_PKGS := libvlc5 vlc-plugin-base libvlc-bin vlc-plugin-video-output ffmpeg xdotool \
	xvfb xauth x11-xserver-utils libgl1 libegl1 libglib2.0-0 libfontconfig1 libfreetype6 \
	libxkbcommon0 libdbus-1-3 libbrotli1 libxkbcommon-x11-0 libx11-xcb1 libxcb-cursor0 \
	libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 \
	libxcb-shape0 libxcb-xkb1 libxcb-xinerama0 fonts-wqy-microhei openssl apt-utils xz-utils \
	chromium gcc libc6-dev

export QT_QPA_PLATFORM ?= offscreen

.PHONY: setup system venv translations relay sink test test-orders demo bench soak lint clean \
	package package-tools package-test package-lock

setup: system venv translations relay sink

# libvlc's frame sink (wallclient/edges/video/sink.c): C callbacks, so that no decoder
# thread takes the GIL for a picture (docs/video.md, "The frame sink")
SINK := wallclient/edges/video/_sink.so
sink: $(SINK)
$(SINK): wallclient/edges/video/sink.c
	cc -O2 -g0 -shared -fPIC -Wall -Wextra -Werror -o $@ $< -lpthread

# The media relay of the deployment demo (docs/deployment.md): Node-Media-Server from
# the npm registry, with the machine's Node.js (Debian's nodejs and npm if it has none).
RELAY_PKG := node-media-server@2.7.4
relay: .cache/relay/.installed
.cache/relay/.installed: Makefile
	@command -v node >/dev/null && command -v npm >/dev/null || { \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq nodejs npm; }
	@mkdir -p .cache/relay
	npm install --silent --no-audit --no-fund --prefix .cache/relay $(RELAY_PKG)
	@touch $@

# Qt translations: resources/translations/*.ts → .qm (English is the source language).
TS := $(wildcard resources/translations/*.ts)
QM := $(TS:.ts=.qm)
translations: $(QM)
resources/translations/%.qm: resources/translations/%.ts $(VENV)/.installed
	$(VENV)/bin/pyside6-lrelease -silent $< -qm $@

system:
	@missing=$$(for p in $(DEB_PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q "install ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages: $$missing"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(VENV)/.installed: pyproject.toml
	@[ -x $(PY) ] || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	@touch $@

venv: $(VENV)/.installed

test: setup
	$(VENV)/bin/ruff check -q wallclient panels tests bench packaging
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	$(PY) -m pytest -q -p no:cacheprovider -p no:randomly -n 2 tests/unit tests/panels tests/io
	$(PY) -m pytest -q -p no:cacheprovider -p no:randomly --durations=15 tests/e2e

# The light suite in three shuffled orders (pytest-randomly; the seed is printed, and
# `--randomly-seed=N` repeats an order): a test that passes alone and fails after another
# is a failing test (docs/operations.md, "Tests that do not leak").
SEEDS ?= 1 2 3
test-orders: setup
	@for seed in $(SEEDS); do \
		echo "== light suite, order $$seed"; \
		$(PY) -m pytest -q -p no:cacheprovider -p randomly --randomly-seed=$$seed -n 2 \
			tests/unit tests/panels tests/io || exit 1; \
	done

demo: setup
	$(PY) -m wallclient demo

bench: setup
	@echo "benches are run one by one, by hand: see docs/benchmarks.md"

# The endurance run (issue 30; not part of make test): the whole wall under a compressed
# month of churn, both routes. `make soak` is the 20-minute screen, `make soak HOURS=4`
# the proof. Writes out/endurance/{callbacks,native}.{csv,png,json}.
SOAK_MIN = $(if $(HOURS),$(shell python3 -c 'print(float("$(HOURS)") * 60)'),20)
soak: setup
	$(PY) bench/endurance.py --minutes $(SOAK_MIN) --route both --out out/endurance

# The installers' command (issue 31; docs/packaging.md): dist/wallclient_<version>_amd64.deb
# with its own Python, and dist/offline/ — a local apt repository per Debian release it
# targets (what a minbase system of that release lacks, resolved by apt in a debootstrap of
# it) and install.sh. VERSION=… overrides the version; RELEASES=bookworm (or trixie) carries
# one release only. Needs root (debootstrap, chroot).
PKG_DEBS := debootstrap patchelf apt-utils dpkg-dev lintian binutils xz-utils iproute2 util-linux
package-tools:
	@missing=$$(for p in $(PKG_DEBS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q "install ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

VERSION ?= $(shell $(PY) -c 'import wallclient; print(wallclient.__version__)' 2>/dev/null)
package: setup package-tools
	$(PY) packaging/build.py --version $(VERSION)
	lintian --fail-on error,warning --tag-display-limit 0 dist/wallclient_$(VERSION)_amd64.deb
	$(SUDO) python3 packaging/offline.py dist/wallclient_$(VERSION)_amd64.deb $(if $(RELEASES),--releases $(RELEASES))

# The bundle on fresh Debian 12 and 13 systems with the network cut (minutes; not part of
# make test): out/package-test/<release>.json
package-test: package
	$(SUDO) $(PY) packaging/package_test.py

# packaging/requirements.txt again from pyproject.toml, at the versions the .venv runs
package-lock: setup
	rm -rf .cache/package/lock && python3 -m venv .cache/package/lock
	$(PY) -m pip freeze --exclude-editable | grep -v '^wallclient' > .cache/package/lock/constraints.txt
	.cache/package/lock/bin/pip install -q -c .cache/package/lock/constraints.txt .
	{ sed -n '1,/^# Refresh/p' packaging/requirements.txt; .cache/package/lock/bin/pip freeze | grep -v '^wallclient'; } \
		> packaging/requirements.lock.new && mv packaging/requirements.lock.new packaging/requirements.txt

lint: setup
	$(VENV)/bin/ruff check wallclient panels tests bench
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) $(SINK) out dist .pytest_cache .mypy_cache .ruff_cache .cache/relay .cache/package/stage
