"""The shipped nginx config (deploy/nginx/hourbook.conf), run as it is on free local ports.

Only addresses and paths change: the upstream servers become the test's instances, the
listening ports free local ones, certificate and log files live in a temporary folder. Each
rewrite must match exactly as often as expected, so a changed config fails here loudly instead
of running something else.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SHIPPED = ROOT / "deploy" / "nginx" / "hourbook.conf"


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (path for path in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(path).exists()),
        None,
    )


@dataclass(frozen=True)
class Ports:
    http: int
    https: int


def rewrite(config: str, *, upstreams: Sequence[str], ports: Ports, folder: Path) -> str:
    """The shipped config with the test's addresses and paths, nothing else changed."""
    servers = "".join(
        f"    server {address} max_fails=3 fail_timeout=10s;\n" for address in upstreams
    )
    rules = (
        (r"(?m)^    server 10\.0\.1\.\d+:8000 max_fails=3 fail_timeout=10s;\n", "", 3),
        (r"    keepalive 32;\n", servers + "    keepalive 32;\n", 1),
        (r"listen 443 ssl http2;", f"listen 127.0.0.1:{ports.https} ssl http2;", 1),
        (r"/etc/ssl/book\.example\.com/", f"{folder}/", 2),
        (r"/var/log/nginx/", f"{folder}/", 2),
    )
    for pattern, replacement, count in rules:
        config, made = re.subn(pattern, replacement.replace("\\", "\\\\"), config)
        assert made == count, f"{pattern!r} matched {made} times in the shipped config, not {count}"
    return config


def main_config(site: Path, folder: Path) -> str:
    """The nginx.conf around the site, as a distribution's would be, with paths of our own."""
    temp = folder / "temp"
    # As root, nginx's workers would drop to "nobody", who cannot write in a pytest folder.
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};\n" if os.geteuid() == 0 else ""
    return (
        f"daemon off;\n{user}worker_processes 1;\npid {folder}/nginx.pid;\n"
        f"error_log {folder}/main-error.log warn;\n"
        "events { worker_connections 256; }\n"
        "http {\n"
        f"    client_body_temp_path {temp}/body;\n    proxy_temp_path {temp}/proxy;\n"
        f"    fastcgi_temp_path {temp}/fastcgi;\n    uwsgi_temp_path {temp}/uwsgi;\n"
        f"    scgi_temp_path {temp}/scgi;\n"
        f"    access_log {folder}/main-access.log;\n"
        f"    include {site};\n"
        "}\n"
    )


def self_signed_certificate(folder: Path) -> None:
    openssl = shutil.which("openssl")
    assert openssl is not None, "openssl is needed to make nginx a certificate"
    subprocess.run(  # noqa: S603 - fixed arguments
        [
            openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=book.example.com",
            "-addext", "subjectAltName=DNS:book.example.com,IP:127.0.0.1",
            "-keyout", str(folder / "privkey.pem"), "-out", str(folder / "fullchain.pem"),
        ],
        check=True, capture_output=True,
    )  # fmt: skip


@dataclass
class Nginx:
    process: subprocess.Popen[bytes]
    ports: Ports
    folder: Path

    def access_log(self, *, waiting_for: str = "") -> str:
        """The access log, once it holds ``waiting_for`` (nginx writes after answering)."""
        deadline = time.monotonic() + 5
        text = (self.folder / "hourbook.access.log").read_text()
        while waiting_for not in text and time.monotonic() < deadline:
            time.sleep(0.05)
            text = (self.folder / "hourbook.access.log").read_text()
        return text

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)


def start(binary: str, *, upstreams: Sequence[str], ports: Ports, folder: Path) -> Nginx:
    """nginx on the shipped config; ``folder`` must hold the certificate already."""
    (folder / "temp").mkdir(parents=True, exist_ok=True)
    site = folder / "hourbook.conf"
    site.write_text(rewrite(SHIPPED.read_text(), upstreams=upstreams, ports=ports, folder=folder))
    main = folder / "nginx.conf"
    main.write_text(main_config(site, folder))
    checked = subprocess.run(  # noqa: S603 - the nginx binary and our own file
        [binary, "-t", "-c", str(main), "-p", str(folder)], capture_output=True, check=False
    )
    assert checked.returncode == 0, checked.stderr.decode()
    log = (folder / "nginx.out").open("wb")
    process = subprocess.Popen(  # noqa: S603
        [binary, "-c", str(main), "-p", str(folder)], stdout=log, stderr=subprocess.STDOUT
    )
    _wait_until_listening(process, ports.https, folder)
    return Nginx(process, ports, folder)


def _wait_until_listening(process: subprocess.Popen[bytes], port: int, folder: Path) -> None:
    """Until nginx accepts connections on ``port``; fails if it exits or takes over 20 s."""
    deadline = time.monotonic() + 20
    while True:
        if process.poll() is not None:
            raise AssertionError(f"nginx exited: {(folder / 'nginx.out').read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise AssertionError(f"nginx does not listen on {port} after 20 s") from None
            time.sleep(0.05)
