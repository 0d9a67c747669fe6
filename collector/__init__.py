"""The central collector: receives kiosks' journals and heartbeats
(docs/sync-protocol.md) and keeps them for the fleet page and for audited
contact tracing. A separate service from the kiosk: it imports nothing from
``kiosk`` and the kiosk never imports it (``pip install ".[collector]"``)."""
