"""A user of the running stack's HTTP API: their token on every request (e2e tests)."""

from __future__ import annotations

import requests

from tests.support.stack import RunningStack


class ApiUser:
    def __init__(self, stack: RunningStack, user_id: str):
        self.user_id = user_id
        self.url = stack.http_url
        self.headers = {"Authorization": f"Bearer {stack.token(user_id, user_id.capitalize())}"}

    def get(self, path: str, **params) -> requests.Response:
        return requests.get(self.url + path, headers=self.headers, params=params, timeout=10)

    def post(self, path: str, body=None, headers=None, data=None) -> requests.Response:
        return requests.post(
            self.url + path, json=body, data=data, headers={**self.headers, **(headers or {})}, timeout=10
        )
