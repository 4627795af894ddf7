"""`python -m tests.fakesheets [--port PORT]`: serve a fresh emulator until Ctrl-C."""
import argparse
import signal
import threading

from .server import FakeSheetsServer


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.fakesheets", description=__doc__)
    parser.add_argument("--port", type=int, default=8765, help="default 8765; 0 for any free")
    args = parser.parse_args()
    server = FakeSheetsServer(args.port).start()
    print(f"fake Google Sheets and Drive APIs at {server.url} (Ctrl-C stops)", flush=True)
    stop = threading.Event()
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: stop.set())
    stop.wait()
    server.stop()


if __name__ == "__main__":
    main()
