"""The shipped nginx config as text: docs/deploy.md shows it verbatim, and its rules hold."""

from __future__ import annotations

import json
import re

from tests.integration.deploy.nginx import ROOT, SHIPPED

DEPLOY_DOC = ROOT / "docs" / "deploy.md"
MARKER = "<!-- the block below is deploy/nginx/hourbook.conf, verbatim -->\n```nginx\n"


def test_docs_deploy_shows_the_shipped_config_verbatim() -> None:
    doc = DEPLOY_DOC.read_text()
    assert doc.count(MARKER) == 1
    shown = doc.split(MARKER, 1)[1].split("```\n", 1)[0]

    assert shown == SHIPPED.read_text()


def test_every_error_nginx_raises_has_a_json_page_in_the_api_shape() -> None:
    config = SHIPPED.read_text()
    pages = re.findall(r"error_page (\d{3}) (?:=(\d{3}) )?(\S+);", config)

    assert {status for status, _, _ in pages} >= {"400", "413", "414", "494", "502", "503", "504"}
    for status, answered_as, uri in pages:
        block = rf"location = {re.escape(uri)} \{{\n\s+internal;\n(?:.*\n)*?"
        location = re.search(block + r"\s+return (\d{3}) '(.*)\\n';", config)
        assert location is not None, uri
        assert location.group(1) == (answered_as or status)
        body = json.loads(location.group(2))
        assert set(body) == {"error"}
        assert set(body["error"]) == {"code", "message"}


def test_only_requests_never_sent_move_to_another_instance_when_they_are_not_idempotent() -> None:
    config = SHIPPED.read_text()
    directives = "\n".join(line.split("#")[0] for line in config.splitlines())
    retries = re.findall(r"proxy_next_upstream ([^;]+);", directives)

    assert retries == ["error timeout http_502"]
    assert "non_idempotent" not in directives
    assert "proxy_intercept_errors off;" in config


def test_the_access_log_never_uses_the_request_line_which_holds_the_feed_token() -> None:
    config = SHIPPED.read_text()
    log_format = re.search(r"log_format hourbook ((?:'[^']*'\s*)+);", config)

    assert log_format is not None
    assert "$request " not in log_format.group(1) and "$request_uri" not in log_format.group(1)
    assert "$hourbook_logged_uri" in log_format.group(1)
