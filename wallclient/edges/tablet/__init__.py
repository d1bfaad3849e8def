"""The commander's tablet (中控): the wall steered from a phone or tablet over the LAN
(docs/tablet.md). ``pairing`` (codes, devices, sessions), ``cert`` (the node's HTTPS
certificate), ``server`` (the page, its WebSocket and the screens' thumbnails)."""
