"""The few calls of Render's public API the autoscaler makes: find the worker's service,
read its instance count and autoscaling settings, and scale it.

    GET  {RENDER_API_URL}/services?name=<name>     -> [{"service": {...}, "cursor": ...}]
    GET  {RENDER_API_URL}/services/<id>            -> {"id", "serviceDetails": {...}}
    POST {RENDER_API_URL}/services/<id>/scale      {"numInstances": N} -> 202

Every failure is a ``RenderAPIError`` whose message says what to fix; the API key never
appears in one (nor in a log line: it is only ever a request header).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import urllib3

TIMEOUT_SECONDS = 10


class RenderAPIError(Exception):
    def __init__(self, message: str, *, status: int | None = None, retry_after: int | None = None):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True)
class Service:
    id: str
    name: str
    num_instances: int
    autoscaling: bool  # Render's own autoscaling is on: it ignores /scale meanwhile


class RenderAPI:
    def __init__(self, base_url: str, api_key: str, *, timeout: float = TIMEOUT_SECONDS):
        self.base_url = base_url.rstrip("/")
        self._headers = {
            "Authorization": f"Bearer {api_key}",
            "Accept": "application/json",
            "Content-Type": "application/json",
        }
        self._http = urllib3.PoolManager(num_pools=1, maxsize=1)
        self._timeout = urllib3.Timeout(total=timeout)

    def service(self, service_id: str) -> Service:
        return _service(self._call("GET", f"/services/{quote(service_id, safe='')}"))

    def find_service(self, name: str) -> Service:
        """The service named exactly ``name`` (Render's filter matches names)."""
        found = self._call("GET", f"/services?{urlencode({'name': name, 'limit': 20})}")
        for item in found if isinstance(found, list) else []:
            data = item.get("service", item) if isinstance(item, dict) else {}
            if data.get("name") == name:
                return _service(data)
        raise RenderAPIError(
            f'no Render service is named "{name}": set AUTOSCALE_SERVICE_NAME to the '
            "worker's name (or AUTOSCALE_SERVICE_ID to its srv-... id)",
            status=404,
        )

    def scale(self, service_id: str, instances: int) -> None:
        self._call(
            "POST", f"/services/{quote(service_id, safe='')}/scale", {"numInstances": instances}
        )

    def _call(self, method: str, path: str, body: dict | None = None) -> Any:
        try:
            response = self._http.request(
                method,
                self.base_url + path,
                body=json.dumps(body).encode() if body is not None else None,
                headers=self._headers,
                timeout=self._timeout,
                retries=False,
                redirect=False,
            )
        except urllib3.exceptions.HTTPError as error:
            reason = type(getattr(error, "reason", None) or error).__name__
            raise RenderAPIError(
                f"Render's API did not answer ({reason}); check RENDER_API_URL and Render's "
                "status page"
            ) from None
        if response.status in (401, 403):
            raise RenderAPIError(
                f"Render's API refused the key ({response.status}): RENDER_API_KEY is wrong, "
                "revoked, or not allowed on this workspace; create one under Account "
                "Settings -> API Keys",
                status=response.status,
            )
        if response.status == 404:
            raise RenderAPIError(
                "Render has no such service (404): check AUTOSCALE_SERVICE_ID (srv-...), or "
                "leave it unset and set AUTOSCALE_SERVICE_NAME",
                status=404,
            )
        if response.status == 429:
            retry_after = _seconds(response.headers.get("Retry-After"))
            raise RenderAPIError(
                "Render's API is rate-limiting this key (429)"
                + (f"; it asks to wait {retry_after}s" if retry_after else ""),
                status=429,
                retry_after=retry_after,
            )
        if response.status >= 300:
            raise RenderAPIError(
                f"Render's API answered {response.status} to {method} {path.split('?')[0]}",
                status=response.status,
            )
        if not response.data:
            return None
        try:
            return json.loads(response.data)
        except ValueError:
            raise RenderAPIError(
                f"Render's API answered {method} with something not JSON"
            ) from None


def _service(data: Any) -> Service:
    try:
        details = data.get("serviceDetails") or {}
        autoscaling = details.get("autoscaling") or {}
        return Service(
            id=str(data["id"]),
            name=str(data.get("name", "")),
            num_instances=int(details.get("numInstances", 1)),
            autoscaling=bool(autoscaling.get("enabled", False)),
        )
    except (AttributeError, KeyError, TypeError, ValueError):
        raise RenderAPIError("Render's API answered with a service this code cannot read") from None


def _seconds(value: str | None) -> int | None:
    try:
        return max(0, int(str(value).strip()))
    except (TypeError, ValueError):
        return None
