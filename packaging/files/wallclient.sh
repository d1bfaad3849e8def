#!/bin/sh
# /usr/bin/wallclient: the wall with the Python it was built and tested with
# (/opt/wallclient/python), whatever Python this system has, or none.
# The wall's settings are /etc/wallclient/wall.toml unless --config or $WALLCLIENT_CONFIG
# says otherwise; the wall's own user keeps its data in /var/lib/wallclient.
unset PYTHONHOME PYTHONPATH
export PYTHONNOUSERSITE=1 PYTHONSAFEPATH=1
: "${WALLCLIENT_CONFIG:=/etc/wallclient/wall.toml}"
export WALLCLIENT_CONFIG
if [ -z "${WALLCLIENT_DATA_DIR:-}" ] && [ "$(id -un 2>/dev/null)" = wallclient ]; then
    export WALLCLIENT_DATA_DIR=/var/lib/wallclient
fi
exec /opt/wallclient/python/bin/python3 -m wallclient "$@"
