"""A mixed agency workload, run as its own process against a live server:

    python tests/load/load_client.py CONFIG.json RESULTS.ndjson

CONFIG holds base_url, token, dataset, keys, seconds, threads. Each thread loops over a
weighted mix of catalogue browsing, key lookups, paginated reads, exports and request
submissions, sending its own X-Request-Id, and writes one line per response (or transport
error) to RESULTS. Nothing here imports Django: this is an outside client."""

from __future__ import annotations

import json
import random
import sys
import threading
import time
import uuid

import httpx

# Agencies send UTF-8 header values; httpx wants bytes for anything beyond ASCII.
PURPOSE = {"X-Purpose": "负载测试：核验申请人信息".encode(), "X-Case-Id": b"LOAD-1"}
# (kind, weight): lookups and paginated reads dominate, as in production.
MIX = [("browse", 3), ("lookup", 5), ("page", 3), ("export", 1), ("submit", 1)]


class Worker(threading.Thread):
    def __init__(self, config: dict, out: list, lock: threading.Lock, seed: int) -> None:
        super().__init__(daemon=True)
        self.config, self.out, self.lock = config, out, lock
        self.rng = random.Random(seed)  # noqa: S311 - load mix, not security
        self.client = httpx.Client(
            base_url=config["base_url"],
            headers={"Authorization": f"Bearer {config['token']}"},
            timeout=30,
        )

    def record(self, kind: str, data: bool, response=None, error: str = "", rid: str = ""):
        line = {
            "kind": kind,
            "data": data,
            "sent_id": rid,
            "at": time.time(),
            "status": response.status_code if response is not None else None,
            "request_id": response.headers.get("X-Request-Id") if response is not None else None,
            "retry_after": response.headers.get("Retry-After") if response is not None else None,
            "content_type": response.headers.get("Content-Type") if response is not None else None,
            "error": error,
        }
        if response is not None and response.status_code >= 400:
            line["body"] = response.text[:300]
        with self.lock:
            self.out.append(line)

    def get(self, kind: str, url: str, *, data: bool, params=None, stream=False):
        rid = uuid.uuid4().hex
        headers = {"X-Request-Id": rid, **(PURPOSE if data else {})}
        try:
            if stream:
                with self.client.stream("GET", url, params=params, headers=headers) as response:
                    for _chunk in response.iter_bytes():
                        pass
            else:
                response = self.client.get(url, params=params, headers=headers)
        except httpx.HTTPError as exc:
            self.record(kind, data, error=f"{type(exc).__name__}: {exc}", rid=rid)
            return None
        self.record(kind, data, response, rid=rid)
        return response

    def one(self, kind: str) -> None:
        code = self.config["dataset"]
        if kind == "browse":
            self.get(kind, "/api/v1/catalog/", data=False, params={"q": "人口"})
            self.get(kind, f"/api/v1/catalog/{code}/", data=False)
        elif kind == "lookup":
            key = self.rng.choice(self.config["keys"])
            self.get(kind, f"/api/v1/datasets/{code}/records/{key}/", data=True)
        elif kind == "page":
            url, params = f"/api/v1/datasets/{code}/records/", {"page_size": "50"}
            for _page in range(3):
                response = self.get(kind, url, data=True, params=params)
                if response is None or response.status_code != 200:
                    return
                nxt = response.json().get("next")
                if not nxt:
                    return
                url, params = nxt, None
        elif kind == "export":
            params = {"format": self.rng.choice(["csv", "ndjson"]), "fields": "id_number,name"}
            url = f"/api/v1/datasets/{code}/export/"
            self.get(kind, url, data=True, params=params, stream=True)
        elif kind == "submit":
            rid = uuid.uuid4().hex
            body = {
                "dataset": code,
                "fields": ["address"],
                "purpose": "负载测试申请",
                "legal_basis": "《政务数据共享条例》",
                "valid_until": self.config["valid_until"],
            }
            try:
                response = self.client.post(
                    "/api/v1/requests/", json=body, headers={"X-Request-Id": rid}
                )
            except httpx.HTTPError as exc:
                self.record(kind, False, error=f"{type(exc).__name__}: {exc}", rid=rid)
                return
            self.record(kind, False, response, rid=rid)
            if response.status_code == 201:
                # One request per department and dataset is pending at a time (another thread's
                # submission meanwhile is a 409): take it back, as an agency would to re-ask.
                rid = uuid.uuid4().hex
                try:
                    response = self.client.post(
                        f"/api/v1/requests/{response.json()['id']}/withdraw/",
                        json={},
                        headers={"X-Request-Id": rid},
                    )
                except httpx.HTTPError as exc:
                    self.record(kind, False, error=f"{type(exc).__name__}: {exc}", rid=rid)
                    return
                self.record(kind, False, response, rid=rid)

    def run(self) -> None:
        kinds = [k for k, w in MIX for _ in range(w)]
        if self.config.get("reads_only"):
            kinds = [k for k in kinds if k != "submit"]
        deadline = time.monotonic() + self.config["seconds"]
        while time.monotonic() < deadline:
            kind = self.rng.choice(kinds)
            try:
                self.one(kind)
            except Exception as exc:  # a client bug must show as an error, not a quiet thread
                self.record(kind, False, error=f"client {type(exc).__name__}: {exc}")
            if self.config.get("pause"):
                time.sleep(self.config["pause"])
        self.client.close()


def main(config_path: str, out_path: str) -> int:
    with open(config_path, encoding="utf-8") as fh:
        config = json.load(fh)
    out: list[dict] = []
    lock = threading.Lock()
    workers = [Worker(config, out, lock, seed) for seed in range(config.get("threads", 6))]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    with open(out_path, "w", encoding="utf-8") as fh:
        for line in out:
            fh.write(json.dumps(line, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
