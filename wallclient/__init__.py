"""wallclient: the desktop client that drives a city-operations centre's video wall.

The top-level modules are the pure-Python core (no Qt, no sockets, no SQL);
``wallclient.edges`` holds the I/O around it and ``panels`` the Qt views.
"""

__version__ = "0.1.0"
