#!/usr/bin/python3
"""A Kubernetes WebSocket streaming client (python3-websocket), independent of berth's code.

  ws_client.py exec URL STDIN        v5.channel.k8s.io: sends STDIN, then the CLOSE signal
  ws_client.py attach URL STDIN      the same, for an attach URL; stops after the first output
  ws_client.py portforward URL DATA  v4.channel.k8s.io: sends DATA on the port's data channel

Prints one JSON object: the output per channel and the close code.
"""
import json
import sys

import websocket


def main():
    mode, url, data = sys.argv[1], sys.argv[2], sys.argv[3].encode()
    url = "ws" + url[len("http"):]
    proto = "v4.channel.k8s.io" if mode == "portforward" else "v5.channel.k8s.io"
    ws = websocket.create_connection(url, subprotocols=[proto], timeout=20)
    channels, code = {}, None
    if mode == "portforward":
        ws.recv(), ws.recv()  # each channel's first message: the port
        ws.send_binary(b"\x00" + data)
    else:
        ws.send_binary(b"\x00" + data)
        if mode == "exec":
            ws.send_binary(b"\xff\x00")
    while True:
        try:
            op, msg = ws.recv_data(control_frame=True)
        except websocket.WebSocketTimeoutException:
            break
        if op == websocket.ABNF.OPCODE_CLOSE:
            code = int.from_bytes(msg[:2], "big") if len(msg) >= 2 else None
            break
        if op == websocket.ABNF.OPCODE_BINARY and msg:
            key = str(msg[0])
            channels[key] = channels.get(key, "") + msg[1:].decode(errors="replace")
            if mode == "attach" and key == "1" and "\n" in channels[key]:
                break
            if mode == "portforward" and key == "0" and "</html>" in channels[key]:
                break
    ws.close()
    print(json.dumps({"channels": channels, "close": code}))


if __name__ == "__main__":
    main()
