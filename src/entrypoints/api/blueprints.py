"""The Blueprint every API module uses: flask-smorest's, with a body reader that answers 400
``malformed_json`` for every body Python cannot read as JSON.

webargs turns only ``JSONDecodeError`` into a 400. Python's ``json`` refuses two more kinds of
body with other errors, which reached the client as 500s: nesting deeper than the interpreter
recurses (``[[[[…`` fits in a few kilobytes) and integers longer than ``int()`` converts (4300
digits). Both are unreadable, so to the client they are malformed like any other.
"""

from __future__ import annotations

from typing import Any

import flask_smorest
from flask import Request
from marshmallow import Schema
from webargs.flaskparser import FlaskParser, abort


class BodyParser(FlaskParser):
    def load_json(self, req: Request, schema: Schema) -> Any:
        try:
            return super().load_json(req, schema)
        except (RecursionError, ValueError) as error:  # JSONDecodeError is answered inside
            abort(400, exc=error, messages={"json": ["Invalid JSON body."]})


class Blueprint(flask_smorest.Blueprint):  # type: ignore[misc]  # flask-smorest has no hints
    ARGUMENTS_PARSER = BodyParser()
