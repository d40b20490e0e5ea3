"""The JSON log format: one object per line, with the bound request id and what was passed."""

from __future__ import annotations

import io
import json
import logging
import logging.config
from datetime import datetime

from gunicorn.config import Config
from gunicorn.glogging import Logger

from adapters.request_context import current_request_id, request_id_bound
from entrypoints.logs import configure_logging, dict_config
from entrypoints.serve.gunicorn_logger import AppLogsRequests
from tests.json_logs import capture_json_log

logger = logging.getLogger("tests.unit.json_logs")


def test_a_line_is_one_json_object_carrying_the_bound_request_id() -> None:
    with capture_json_log() as log, request_id_bound("req-42"):
        logger.info("booked %s", "a slot")

    [line] = log.from_logger(logger.name)
    assert line["message"] == "booked a slot"
    assert line["level"] == "INFO"
    assert line["request_id"] == "req-42"
    assert datetime.fromisoformat(line["time"]).utcoffset() is not None


def test_outside_any_request_the_request_id_is_null() -> None:
    with capture_json_log() as log:
        logger.warning("housekeeping")

    assert log.from_logger(logger.name)[0]["request_id"] is None


def test_the_binding_ends_with_its_block_and_restores_the_outer_id() -> None:
    with request_id_bound("outer"):
        with request_id_bound("inner"):
            assert current_request_id() == "inner"
        assert current_request_id() == "outer"
    assert current_request_id() is None


def test_an_exception_travels_as_text_and_a_multiline_message_stays_on_one_line() -> None:
    with capture_json_log() as log:
        try:
            raise RuntimeError("mail server down")
        except RuntimeError:
            logger.exception("sending failed\nfor two recipients")

    text = log.stream.getvalue()
    assert text.count("\n") == 1
    [line] = log.from_logger(logger.name)
    assert line["message"] == "sending failed\nfor two recipients"
    assert "RuntimeError: mail server down" in line["exception"]


def test_extra_fields_join_the_line_without_overwriting_the_standard_ones() -> None:
    with capture_json_log() as log:
        logger.info("GET /healthz 200", extra={"status": 200, "duration_ms": 1.5, "level": "x"})

    [line] = log.from_logger(logger.name)
    assert (line["status"], line["duration_ms"], line["level"]) == (200, 1.5, "INFO")


def test_configure_logging_sends_every_logger_to_the_stream_as_json() -> None:
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    stream = io.StringIO()
    try:
        configure_logging("info", stream)
        logging.getLogger("rq.worker").info("job started")
        logging.getLogger("tests.unit.json_logs").debug("below the level")
    finally:
        root.handlers[:] = saved[1]
        root.setLevel(saved[0])

    lines = [json.loads(text) for text in stream.getvalue().splitlines()]
    assert [(line["logger"], line["message"]) for line in lines] == [("rq.worker", "job started")]


def test_the_gunicorn_configuration_is_accepted_by_dict_config() -> None:
    names = ("", "gunicorn.error", "gunicorn.access", "alembic")
    saved = [(logger, logger.level, list(logger.handlers), logger.propagate)
             for logger in map(logging.getLogger, names)]  # fmt: skip
    try:
        logging.config.dictConfig(dict_config("warning"))
        configured = [(logger.level, logger.propagate) for logger, *_ in saved]
    finally:
        for logger, level, handlers, propagate in saved:
            logger.setLevel(level)
            logger.handlers[:] = handlers
            logger.propagate = propagate

    assert configured == [
        (logging.WARNING, True),  # root, with the JSON handler
        (logging.WARNING, True),  # gunicorn's own lines go to the root's JSON handler
        (logging.WARNING, False),  # gunicorn's access log is the app's job
        (logging.WARNING, True),
    ]


def test_gunicorn_builds_no_access_line_since_the_app_logs_requests_itself() -> None:
    config = Config()
    config.set("logconfig_dict", {"version": 1, "disable_existing_loggers": False})
    error_log = logging.getLogger("gunicorn.error")
    saved = list(error_log.handlers)
    try:
        plain, ours = Logger(config), AppLogsRequests(config)
        ours.access(resp=None, req=None, environ={}, request_time=None)  # builds nothing
    finally:
        error_log.handlers[:] = saved

    assert plain.access_log_enabled  # a logging dict alone turns gunicorn's access line on
    assert not ours.access_log_enabled
