#!/usr/bin/python3
# Copyright 2026 The OpenSecureConf Authors
# SPDX-License-Identifier: Apache-2.0
"""Create, read, list, update and delete a configuration entry with libosc-client
through GObject-Introspection.

    osc-example.py [URL]

The server URL comes from the command line or OSC_URL; the user key from OSC_USER_KEY and
the API key (if the server needs one) from OSC_API_KEY. Run it from a build tree with
GI_TYPELIB_PATH and LD_LIBRARY_PATH pointing at src/client.
"""

import json
import os
import sys
import time

import gi

gi.require_version("Osc", "1.0")
from gi.repository import GLib, Osc  # noqa: E402


def wait_for(predicate, seconds=10.0):
    """Run the default main context until predicate() holds (the event stream lives there)."""
    context = GLib.MainContext.default()
    deadline = time.monotonic() + seconds
    ticker = GLib.timeout_add(50, lambda: True)  # wake up to look at the clock
    try:
        while not predicate() and time.monotonic() < deadline:
            context.iteration(True)
    finally:
        GLib.source_remove(ticker)
    return predicate()


def main():
    url = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("OSC_URL")
    if not url:
        print("usage: osc-example.py URL (or set OSC_URL)", file=sys.stderr)
        return 2
    user_key = os.environ.get("OSC_USER_KEY", "example-user-key-123")
    api_key = os.environ.get("OSC_API_KEY")

    # any property can be set at construction, as with every GObject
    client = Osc.Client(base_url=url, user_key=user_key, api_key=api_key,
                        timeout=10, max_retries=2)
    info = client.get_service_info(None)
    print("service:", info.get_object().get_string_member("service"))

    key, env = "example.database", "example"
    value = {"host": "db.example.org", "port": 5432, "tls": True}

    # change events, with values since the stream has the user key
    events = []
    stream = Osc.EventStream(base_url=url, api_key=api_key, user_key=user_key,
                             environment=env, initial_delay=0.5)
    stream.connect("event", lambda _stream, event: events.append(event))
    stream.start()
    if not wait_for(lambda: stream.props.connected and events):
        print("the event stream did not connect", file=sys.stderr)
        return 1

    # values travel as JSON text in bindings (the C API uses JsonNode)
    entry = client.create_string(key, env, json.dumps(value), "database", None)
    print("created:", entry.get_key(), entry.get_environment(), entry.get_category(),
          json.loads(entry.get_value_string()) == value)
    wait_for(lambda: any(e.get_event_type() == "created" for e in events))
    created = [e for e in events if e.get_event_type() == "created"]
    print("event:", created[0].get_event_type(), created[0].get_key(),
          json.loads(created[0].get_value_string())["port"] if created else None)

    entry = client.read(key, env, True, None)
    print("read:", entry.get_key(), json.loads(entry.get_value_string())["host"],
          "etag", entry.get_etag())

    print("listed:", ",".join(e.get_key() for e in client.list(None, env, False, None)))
    print("exists:", client.exists(key, env, None), client.exists("no.such.key", env, None))

    value["port"] = 6432
    updated = client.update_string(key, env, json.dumps(value), None, entry.get_etag(), None)
    print("updated:", json.loads(updated.get_value_string())["port"],
          "category", updated.get_category())

    # a stale ETag fails with a typed error
    try:
        client.update_string(key, env, "1", None, entry.get_etag(), None)
    except GLib.Error as e:
        if e.matches(Osc.client_error_quark(), Osc.ClientError.PRECONDITION_FAILED):
            print("stale update refused: precondition-failed")
        else:
            raise

    client.delete(key, env, updated.get_etag(), None)
    wait_for(lambda: stream.get_event_count("deleted") == 1)
    print("events:", " ".join(e.get_event_type() for e in events),
          "received", stream.get_events_received())
    stream.stop()
    try:
        client.read(key, env, False, None)
    except GLib.Error as e:
        if e.matches(Osc.client_error_quark(), Osc.ClientError.NOT_FOUND):
            print("deleted:", key)
        else:
            raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
