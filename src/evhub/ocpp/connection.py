"""Adapter giving a Starlette WebSocket the recv/send interface the ocpp library expects."""

from __future__ import annotations

from starlette.websockets import WebSocket, WebSocketDisconnect


class StarletteConnection:
    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket

    async def recv(self) -> str:
        message = await self.websocket.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        text = message.get("text")
        if text is not None:
            return str(text)
        # OCPP-J uses text frames only; a binary frame is handed on so that it fails to parse
        # as JSON and earns a CallError instead of closing the connection.
        return bytes(message.get("bytes") or b"").decode("utf-8", errors="replace")

    async def send(self, text: str) -> None:
        await self.websocket.send_text(text)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self.websocket.close(code, reason)
