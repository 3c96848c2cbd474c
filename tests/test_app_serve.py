"""`mlplab serve`: loopback by default, a warning for any other address, one clear line for a port in
use, and a real server that starts, answers and stops on Ctrl-C even with a live stream open."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest
from click.testing import CliRunner

from mlplab.app import server
from mlplab.app.server import allowed_hosts, bind, host_warning, is_loopback, url_for
from mlplab.cli import main
from mlplab.train import TrainConfig, train


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_help_has_an_example():
    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0 and "Example:" in result.output and "mlplab serve --port" in result.output
    assert "127.0.0.1" in result.output


def test_a_port_in_use_is_one_clear_line(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(main, ["serve", "--port", str(port), "--runs-dir", str(tmp_path)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [f"Error: port {port} on 127.0.0.1 is already in use (another mlplab serve?); "
                     f"choose another with --port {port + 1}."]


def test_a_runs_dir_that_is_a_file_is_one_clear_line(tmp_path):
    (tmp_path / "file").write_text("x")
    result = CliRunner().invoke(main, ["serve", "--runs-dir", str(tmp_path / "file"), "--port", str(free_port())])
    assert result.exit_code == 2 and "'--runs-dir'" in result.stderr and "is a file" in result.stderr


def test_another_host_prints_a_warning_and_keeps_checking_host_names(tmp_path, monkeypatch):
    served = []
    monkeypatch.setattr(server, "serve", lambda settings, host, port, sock, log_level, extra_hosts: (
        served.append((host, extra_hosts)), sock.close()))
    port = free_port()
    result = CliRunner().invoke(main, ["serve", "--host", "0.0.0.0", "--port", str(port), "--runs-dir", str(tmp_path),
                                       "--allowed-host", "lab.local"])
    assert result.exit_code == 0 and served == [("0.0.0.0", ("lab.local",))]
    assert result.stderr.startswith("Warning: listening on 0.0.0.0") and "no login" in result.stderr
    assert "Answering requests addressed to: " in result.stderr and "lab.local" in result.stderr
    assert f"open http://127.0.0.1:{port}/" in result.stdout
    classroom = allowed_hosts("0.0.0.0")
    assert "*" not in classroom and {"127.0.0.1", "localhost", "[::1]", socket.gethostname().lower()} <= set(classroom)
    assert allowed_hosts("127.0.0.1") == ("127.0.0.1", "localhost", "[::1]")


@pytest.mark.parametrize("host, loopback", [("127.0.0.1", True), ("localhost", True), ("::1", True),
                                            ("[::1]", True), ("127.0.0.2", True), ("0.0.0.0", False),
                                            ("192.168.1.5", False), ("example.org", False)])
def test_loopback_addresses_are_recognised(host, loopback):
    assert is_loopback(host) is loopback
    assert (host_warning(host) is None) is loopback


def test_addresses_to_open():
    assert url_for("127.0.0.1", 8000) == "http://127.0.0.1:8000/"
    assert url_for("0.0.0.0", 80) == "http://127.0.0.1:80/"
    assert url_for("::1", 8000) == "http://[::1]:8000/"


def test_bind_listens_and_refuses_a_taken_port():
    sock = bind("127.0.0.1", 0)
    try:
        port = sock.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            pass  # it accepts connections
        with pytest.raises(server.ConfigError, match="already in use"):
            bind("127.0.0.1", port)
    finally:
        sock.close()


def test_the_real_server_serves_and_stops_on_ctrl_c_with_a_live_stream_open(tmp_path):
    """The installed entry point, a live (never-ending) stream open, then SIGINT: a clean, quick exit."""
    root = tmp_path / "runs"
    train(TrainConfig(iters=11, batch_size=50, hidden=(8,), train_size=200, test_size=100, eval_every=5, seed=0),
          run_dir=root / "live")
    stream = root / "live" / "stream.jsonl"
    stream.write_text("".join(stream.read_text().splitlines(keepends=True)[:2]))  # no end: it looks live
    port = free_port()
    mlplab = shutil.which("mlplab", path=os.path.dirname(sys.executable)) or "mlplab"
    process = subprocess.Popen([mlplab, "serve", "--port", str(port), "--runs-dir", str(root)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                runs = httpx.get(base + "/api/runs", timeout=2).json()["runs"]
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and process.poll() is None, process.stderr.read()
                time.sleep(0.2)
        assert runs[0]["name"] == "live" and runs[0]["live"]
        received = []

        def listen() -> None:
            try:
                with httpx.stream("GET", base + "/api/runs/live/stream", timeout=30) as response:
                    for line in response.iter_lines():
                        if line.startswith("data: "):
                            received.append(json.loads(line[6:]))
            except httpx.HTTPError:
                received.append({"event": "disconnected"})

        listener = threading.Thread(target=listen, daemon=True)
        listener.start()
        while len(received) < 2:
            time.sleep(0.05)
            assert time.monotonic() < deadline
        stopped_at = time.monotonic()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
        assert process.returncode == 0, err
        assert time.monotonic() - stopped_at < 8  # the open stream did not hold the shutdown
        listener.join(5)
        assert received[-1]["event"] in ("closing", "disconnected")
        assert out.startswith(f"mlplab serve: open http://127.0.0.1:{port}/")
        assert out.rstrip().endswith("mlplab serve: stopped.")
        assert "Traceback" not in err
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
