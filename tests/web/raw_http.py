"""An HTTP/1.1 request written by hand: a chunked body without Content-Length, raw header bytes."""

from __future__ import annotations

import asyncio


async def raw_request(client, head: str | bytes, chunks: list[bytes]) -> bytes:
    """Send a request by hand, the body in HTTP/1.1 chunks; the status line that came back."""
    reader, writer = await asyncio.open_connection(client.host, client.port)
    raw_head = head if isinstance(head, bytes) else head.encode()
    try:
        writer.write(raw_head + b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
        try:
            for chunk in chunks:
                writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                await writer.drain()
            writer.write(b"0\r\n\r\n")
            await writer.drain()
        except ConnectionError:
            pass  # the server may answer and close before the whole body is sent
        return await reader.readline()
    finally:
        writer.close()
