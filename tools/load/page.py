"""Events sent the way the browser sends them (the page's config, the queue's join and event
stream), for those with no API name: the page's zoom/slider event."""

from __future__ import annotations

import urllib.request

import numpy as np

from tools.load.report import short


def page_config(url: str) -> dict:
    """The page's config (GET /config): its components and events, as the browser reads them."""
    import json
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(url + "/config", timeout=30) as r:
        return json.load(r)


def queue_call(url: str, fn_index: int, data: list, trigger: int | None = None, timeout: float = 600.0) -> dict:
    """One event the way the browser sends it: POST /gradio_api/queue/join, then the session's event
    stream until its answer; returns that "process_completed" message (``success``; ``output``:
    ``data``, or ``error`` with the message a gr.Error carries)."""
    import json
    import uuid
    session = uuid.uuid4().hex[:11]
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    body = json.dumps({"data": data, "fn_index": fn_index, "trigger_id": trigger, "session_hash": session,
                       "event_data": None}).encode()
    req = urllib.request.Request(url + "/gradio_api/queue/join", body, {"Content-Type": "application/json"})
    with opener.open(req, timeout=timeout) as r:
        json.load(r)
    with opener.open(f"{url}/gradio_api/queue/data?session_hash={session}", timeout=timeout) as r:
        for raw in r:
            line = raw.decode().strip()
            if line.startswith("data:"):
                msg = json.loads(line[5:])
                if msg.get("msg") == "process_completed":
                    return msg
    raise RuntimeError("the event stream ended without an answer")


class Zoom:
    """The page's zoom/slider event (private: no API name for clients) called as the browser does
    (:func:`queue_call`). Its inputs are found in the page's config: the four result images, then
    the other controls (the zoom's centre and magnification drawn at random, the rest at their
    defaults). ``fn_index`` is None if the page has no such event."""

    FILES = ("out-first", "out-bicubic", "out-srcnn", "out-residual")

    def __init__(self, url: str):
        self.url = url
        config = page_config(url)
        comps = {c["id"]: c for c in config["components"]}
        self.fn_index, self.inputs, self.trigger = None, [], None
        for i, dep in enumerate(config["dependencies"]):
            ids = [comps.get(cid, {}).get("props", {}).get("elem_id") for cid in dep["inputs"]]
            if ids[:4] == list(self.FILES) and len(ids) > 4:
                self.fn_index = dep.get("id", i)
                self.inputs = [comps[cid] for cid in dep["inputs"]]
                self.trigger = dep["targets"][0][0] if dep.get("targets") else None
                break

    def values(self, files: list[dict], rng: np.random.Generator) -> list:
        values, images = [], iter(files)
        for comp in self.inputs:
            props = comp.get("props", {})
            label = str(props.get("label", ""))
            if props.get("elem_id") in self.FILES:
                values.append(next(images))
            elif comp.get("type") == "slider" and "Zoom" in label:
                values.append(int(rng.integers(0, 101)))
            elif comp.get("type") == "radio" and "Magnification" in label:
                values.append(int(rng.choice([2, 4, 8])))
            else:
                values.append(props.get("value"))
        return values

    def __call__(self, files: list[dict], rng: np.random.Generator, timeout: float) -> dict:
        """The answer's message; RuntimeError with the server's message if it failed."""
        import json
        msg = queue_call(self.url, self.fn_index, self.values(files, rng), self.trigger, timeout)
        if not msg.get("success"):
            raise RuntimeError(short(json.dumps(msg.get("output", {})), 300))
        return msg


def file_value(item) -> dict:
    """An image output as gradio_client returns it without downloading, as the page sends it back."""
    if isinstance(item, dict):
        return {**item, "meta": {"_type": "gradio.FileData"}}
    return {"path": str(item), "meta": {"_type": "gradio.FileData"}}
