# Copyright 2026 The OpenSecureConf Authors
# SPDX-License-Identifier: Apache-2.0
#
# Minimal stand-in for sse_starlette.sse.EventSourceResponse (sse-starlette is
# not packaged in Debian 12). It reproduces what API.md §5 records of the
# library's behaviour: text/event-stream, cache-control no-store,
# x-accel-buffering no, "\r\n" line ends, dict items {"event", "data"} or
# {"comment"}, and a ": ping - <UTC datetime>" comment every 15 s.
# Only the SSE routes use it; the benchmarked /configs routes never do.
import asyncio
from datetime import datetime, timezone

from starlette.responses import Response

SEP = "\r\n"


def _encode(item):
    if isinstance(item, dict):
        out = ""
        if item.get("comment") is not None:
            out += f": {item['comment']}{SEP}"
        if item.get("id") is not None:
            out += f"id: {item['id']}{SEP}"
        if item.get("event") is not None:
            out += f"event: {item['event']}{SEP}"
        if item.get("data") is not None:
            for line in str(item["data"]).splitlines() or [""]:
                out += f"data: {line}{SEP}"
        if item.get("retry") is not None:
            out += f"retry: {item['retry']}{SEP}"
        return (out + SEP).encode("utf-8")
    return f"data: {item}{SEP}{SEP}".encode("utf-8")


class EventSourceResponse(Response):
    media_type = "text/event-stream"

    def __init__(self, content, status_code=200, headers=None, ping=15):
        super().__init__(content=None, status_code=status_code, headers=headers,
                         media_type=self.media_type)
        self.body_iterator = content
        self.ping_interval = ping
        self.headers["Cache-Control"] = "no-store"
        self.headers["Connection"] = "keep-alive"
        self.headers["X-Accel-Buffering"] = "no"
        del self.headers["content-length"]

    async def __call__(self, scope, receive, send):
        await send({"type": "http.response.start", "status": self.status_code,
                    "headers": self.raw_headers})
        lock = asyncio.Lock()
        done = asyncio.Event()

        async def body():
            try:
                async for item in self.body_iterator:
                    async with lock:
                        await send({"type": "http.response.body", "body": _encode(item),
                                    "more_body": True})
            finally:
                done.set()

        async def ping():
            while not done.is_set():
                await asyncio.sleep(self.ping_interval)
                async with lock:
                    await send({"type": "http.response.body",
                                "body": f": ping - {datetime.now(timezone.utc)}{SEP}{SEP}".encode(),
                                "more_body": True})

        async def disconnect():
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return

        tasks = [asyncio.ensure_future(t()) for t in (body, ping, disconnect)]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for t in tasks:
                t.cancel()
        try:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except Exception:  # the client is gone
            pass
