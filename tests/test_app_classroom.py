"""A classroom server (issue 13, item 6): ``--host 0.0.0.0`` still checks the Host header, files are
served only from inside the runs folder, ``--host ''`` and bad folders are refused at start, a costly
expression is refused and a slow request stopped, and request bodies are strictly typed."""

from __future__ import annotations

import os
import socket
import warnings

import pytest
from click.testing import CliRunner

from mlplab.app import AppSettings, api_landscape, create_app
from mlplab.app.server import allowed_hosts, check_folders
from mlplab.cli import main
from mlplab.errors import ConfigError
from mlplab.landscape import get_function

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

NESTED_SIN = "sin(" * 34 + "x" + ")" * 34 + " + y**2"


def error_of(response, status: int) -> str:
    assert response.status_code == status, response.text
    return response.json()["error"]


@pytest.fixture
def classroom(tmp_path):
    """The app as ``mlplab serve --host 0.0.0.0 --allowed-host lab.local`` builds it."""
    app = create_app(AppSettings(runs_dir=tmp_path, allowed_hosts=allowed_hosts("0.0.0.0", ("lab.local",))))
    return TestClient(app, base_url="http://127.0.0.1:8000")


def test_a_classroom_server_refuses_another_host_name(classroom):
    message = error_of(classroom.get("/api/runs", headers={"host": "evil.example:8000"}), 400)
    assert message == ("this server does not answer to the name 'evil.example' (Host header); open it by this "
                       "computer's name or address, or start it with --allowed-host evil.example.")


@pytest.mark.parametrize("host", [socket.gethostname(), socket.gethostname().upper() + ":8000", "127.0.0.1:8000",
                                  "localhost", "[::1]:8000", "lab.local"])
def test_a_classroom_server_answers_its_own_names(classroom, host):
    assert classroom.get("/api/runs", headers={"host": host}).status_code == 200


def test_a_star_would_turn_the_check_off_and_is_refused(tmp_path):
    result = CliRunner().invoke(main, ["serve", "--host", "0.0.0.0", "--allowed-host", "*", "--runs-dir",
                                       str(tmp_path)])
    assert result.exit_code == 2 and result.stderr.startswith("Error: --allowed-host '*' would answer any name")
    with pytest.raises(ConfigError, match="is not a host name"):
        allowed_hosts("0.0.0.0", ("evil example",))


def test_an_empty_host_is_refused_not_read_as_every_interface(tmp_path):
    result = CliRunner().invoke(main, ["serve", "--host", "", "--runs-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "Error: --host is empty, which would listen on every network interface; give --host 127.0.0.1 (this "
        "computer only) or --host 0.0.0.0 (every interface, e.g. a classroom)."]


def test_folders_are_checked_at_start(tmp_path):
    (tmp_path / "file").write_text("x")
    cases = [
        (["--runs-dir", str(tmp_path / "file" / "runs")], "--runs-dir"),  # cannot be created under a file
        (["--data-dir", str(tmp_path / "missing")], "is not a folder"),
    ]
    with socket.socket() as taken:  # were the folders not checked first, the error would be "port in use"
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        for args, says in cases:
            result = CliRunner().invoke(main, ["serve", *args, "--port", str(taken.getsockname()[1])])
            lines = result.stderr.strip().splitlines()
            assert result.exit_code == 2 and len(lines) == 1 and says in lines[0], result.output
    check_folders(tmp_path / "new" / "runs", None)  # a runs folder that can be created is
    assert (tmp_path / "new" / "runs").is_dir()


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads and writes everything")
def test_an_unwritable_runs_folder_is_refused(tmp_path):
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(ConfigError, match="cannot be created, read and written"):
            check_folders(tmp_path, None)
    finally:
        tmp_path.chmod(0o700)


def test_a_symlinked_file_that_leaves_the_runs_folder_is_not_served(tmp_path):
    runs, secret = tmp_path / "runs", tmp_path / "secret.html"
    secret.write_text("<p>the teacher's private notes</p>")
    for name in ("x", "y"):
        (runs / name).mkdir(parents=True)
        (runs / name / "config.json").write_text("{}")
    (runs / "x" / "report.html").symlink_to(secret)
    (runs / "y" / "real.html").write_text("<p>a report</p>")
    (runs / "y" / "report.html").symlink_to(runs / "y" / "real.html")  # a link that stays inside is fine
    client = TestClient(create_app(AppSettings(runs_dir=runs, allowed_hosts=("testserver",))))
    response = client.get("/api/runs/x/report.html")
    assert "private" not in response.text
    assert error_of(response, 403) == ("report.html of run 'x' is a link to a file outside the runs folder, which "
                                       "this server does not serve; copy the file into the run folder instead.")
    assert client.get("/api/runs/y/report.html").text == "<p>a report</p>"


def test_a_costly_expression_is_refused_before_it_is_evaluated(tmp_path):
    with pytest.raises(ConfigError, match="too complicated"):
        get_function(NESTED_SIN)
    client = TestClient(create_app(AppSettings(runs_dir=tmp_path, allowed_hosts=("testserver",))))
    body = {"function": NESTED_SIN, "paths": [{"optimizer": "sgd", "lr": 0.1}]}
    assert "too complicated" in error_of(client.post("/api/landscape/paths", json=body), 400)


def test_a_landscape_request_past_its_time_limit_is_stopped(tmp_path, monkeypatch):
    monkeypatch.setattr(api_landscape, "REQUEST_SECONDS", 0.0)  # every request is late: deterministic
    client = TestClient(create_app(AppSettings(runs_dir=tmp_path, allowed_hosts=("testserver",))))
    body = {"function": "x**2 + y**2", "paths": [{"optimizer": "sgd", "lr": 0.1}]}
    assert error_of(client.post("/api/landscape/paths", json=body), 503) == (
        "this landscape took more than 0 s to compute and was stopped; use a simpler function, fewer steps or "
        "paths, or a smaller grid.")
    monkeypatch.setattr(api_landscape, "REQUEST_SECONDS", 10.0)
    assert client.post("/api/landscape/paths", json=body).status_code == 200  # the limit ends with the request


@pytest.mark.parametrize("url, body, says", [
    ("/api/train", {"iters": True}, "iters must be a valid integer, got True."),
    ("/api/train", {"iters": "5"}, "iters must be a valid integer, got '5'."),
    ("/api/train", {"plots": 1}, "plots must be a valid boolean, got 1."),
    ("/api/train", {"hidden": [True]}, "hidden.0 must be a valid integer, got True."),
    ("/api/train", {"seed": False}, "seed must be a valid integer, got False."),
    ("/api/train", {"lr": True}, "lr must be a valid number, got True."),
    ("/api/landscape/paths", {"paths": [{"lr": True}]}, "paths.0.lr must be a valid number, got True."),
    ("/api/landscape/paths", {"paths": [{"lr": 0.1}], "steps": True}, "steps must be a valid integer, got True."),
    ("/api/landscape/paths", {"paths": [{"lr": 0.1}], "start": [True, 1]}, "start.0 must be a valid number"),
    ("/api/landscape/paths", {"paths": [{"lr": 0.1}], "stochastic": {"n": True}}, "stochastic.n must be a valid"),
])
def test_request_bodies_are_strictly_typed(tmp_path, url, body, says):
    client = TestClient(create_app(AppSettings(runs_dir=tmp_path, allowed_hosts=("testserver",))))
    assert says in error_of(client.post(url, json=body), 422)
    assert list(tmp_path.iterdir()) == []  # no training started
