"""A headless Chromium driven over the DevTools protocol, for the site's browser test.

No extra dependency: Chromium speaks the protocol over two pipes when started with
``--remote-debugging-pipe`` (it reads commands on fd 3 and writes replies and events on fd 4, one
JSON message per NUL-terminated chunk). ``Browser.page(url, width)`` loads a page at a given
viewport width, as a phone would, and reports what the test needs: console errors, MathML
elements, the page's width against the viewport's, and optionally a screenshot.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")

MEASURE = """JSON.stringify({
  innerWidth: window.innerWidth,
  scrollWidth: document.documentElement.scrollWidth,
  height: document.documentElement.scrollHeight,
  mathml: document.getElementsByTagNameNS('http://www.w3.org/1998/Math/MathML', 'math').length,
  mathmlWidth: Math.max(0, ...Array.from(document.getElementsByTagNameNS('http://www.w3.org/1998/Math/MathML', 'math'),
                                            m => m.getBoundingClientRect().width)),
  brokenImages: Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src),
  wide: Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > WIDTH + 1
        && !e.parentElement.closest('.scroll, pre, .math-display'))
        .slice(0, 5).map(e => `${e.tagName}.${e.className} ${Math.round(e.getBoundingClientRect().right)}px: ${(e.textContent || '').slice(0, 40)}`),
})"""


def find_chromium() -> str | None:
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


@dataclass
class PageReport:
    url: str
    width: int
    inner_width: int
    scroll_width: int
    height: int
    mathml: int
    mathml_width: float
    broken_images: list[str]
    wide_elements: list[str]
    errors: list[str] = field(default_factory=list)
    screenshot: bytes | None = None

    @property
    def overflows(self) -> bool:
        return max(self.scroll_width, self.inner_width) > self.width


class Browser:
    """``with Browser() as b: report = b.page("file:///…/index.html", width=400)``."""

    def __init__(self, executable: str | None = None):
        self.executable = executable or find_chromium()
        if self.executable is None:
            raise FileNotFoundError("no Chromium found (apt-get install chromium)")
        self._id = 0
        self._buffer = b""
        self._events: list[dict] = []

    def __enter__(self):
        commands_r, self._commands_w = os.pipe()
        self._replies_r, replies_w = os.pipe()
        self._profile = tempfile.mkdtemp(prefix="chromium-profile-")

        def pipes_on_3_and_4():  # in the child: the pipe ends Chromium expects, inheritable
            high_r, high_w = os.dup(commands_r), os.dup(replies_w)  # so that neither end is 3 or 4 yet
            os.dup2(high_r, 3)
            os.dup2(high_w, 4)
            os.set_inheritable(3, True)
            os.set_inheritable(4, True)

        self._process = subprocess.Popen(
            [self.executable, "--headless=new", "--remote-debugging-pipe", "--no-sandbox", "--disable-gpu",
             "--no-first-run", "--no-default-browser-check", "--hide-scrollbars", "--mute-audio",
             f"--user-data-dir={self._profile}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=pipes_on_3_and_4, close_fds=False)
        os.close(commands_r)
        os.close(replies_w)
        return self

    def __exit__(self, *exc):
        try:
            self.send("Browser.close")
        except Exception:  # already gone
            pass
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
        os.close(self._commands_w)
        os.close(self._replies_r)
        shutil.rmtree(self._profile, ignore_errors=True)

    # --- the protocol --------------------------------------------------------------------------
    def _read_message(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            if time.monotonic() > deadline:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self._replies_r, 1 << 16)
            if not chunk:
                raise ConnectionError("Chromium closed the pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method: str, params: dict | None = None, session: str | None = None, timeout: float = 30):
        self._id += 1
        message = {"id": self._id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._commands_w, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self._events.append(reply)

    def wait_for(self, method: str, session: str, timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        for i, event in enumerate(self._events):
            if event.get("method") == method and event.get("sessionId") == session:
                return self._events.pop(i)
        while True:
            event = self._read_message(deadline)
            if event.get("method") == method and event.get("sessionId") == session:
                return event
            self._events.append(event)

    # --- a page --------------------------------------------------------------------------------
    def page(self, url: str, width: int, height: int = 900, screenshot: bool = False,
             max_screenshot_height: int = 6000) -> PageReport:
        """Load ``url`` in a fresh tab with a ``width``-pixel viewport (a phone's, when narrow) and
        measure it once it has loaded."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.send(f"{domain}.enable", session=session)
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 700}, session=session)
        self._events.clear()
        self.send("Page.navigate", {"url": url}, session=session)
        self.wait_for("Page.loadEventFired", session)
        measured = json.loads(self.send("Runtime.evaluate", {"expression": MEASURE.replace("WIDTH", str(width)),
                                                             "returnByValue": True},
                                        session=session)["result"]["value"])
        shot = None
        if screenshot:
            full = min(measured["height"], max_screenshot_height)
            self.send("Emulation.setDeviceMetricsOverride",
                      {"width": width, "height": full, "deviceScaleFactor": 1, "mobile": width < 700}, session=session)
            data = self.send("Page.captureScreenshot", {"format": "png"}, session=session)["data"]
            shot = base64.b64decode(data)
        errors = self._errors(session)
        self.send("Target.closeTarget", {"targetId": target})
        return PageReport(url, width, measured["innerWidth"], measured["scrollWidth"], measured["height"],
                          measured["mathml"], measured["mathmlWidth"], measured["brokenImages"], measured["wide"],
                          errors, shot)

    def _errors(self, session: str) -> list[str]:
        errors = []
        for event in self._events:
            if event.get("sessionId") != session:
                continue
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                errors.append(params["exceptionDetails"].get("text", "exception"))
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                errors.append(" ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", [])))
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                entry = params["entry"]
                errors.append(f"{entry.get('text', '')} {entry.get('url', '')}".strip())
        return errors


class Tab:
    """One tab kept open for many pages at one viewport: ``with Tab(browser, 400) as tab:
    tab.go(url); tab.evaluate(js); tab.errors()``. Cheaper than a tab per page."""

    def __init__(self, browser: Browser, width: int, height: int = 900):
        self.browser, self.width, self.height = browser, width, height

    def __enter__(self):
        b = self.browser
        self.target = b.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = b.send("Target.attachToTarget", {"targetId": self.target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            b.send(f"{domain}.enable", session=self.session)
        self.resize(self.height)
        return self

    def __exit__(self, *exc):
        self.browser.send("Target.closeTarget", {"targetId": self.target})

    def resize(self, height: int) -> None:
        self.browser.send("Emulation.setDeviceMetricsOverride",
                          {"width": self.width, "height": height, "deviceScaleFactor": 1, "mobile": self.width < 700},
                          session=self.session)

    def go(self, url: str) -> None:
        """Load ``url`` and wait for its load event; the console's errors are collected from here on."""
        self.browser._events = [e for e in self.browser._events if e.get("sessionId") != self.session]
        self.browser.send("Page.navigate", {"url": url}, session=self.session)
        self.browser.wait_for("Page.loadEventFired", self.session)

    def evaluate(self, expression: str):
        reply = self.browser.send("Runtime.evaluate", {"expression": expression, "returnByValue": True},
                                  session=self.session)
        if "exceptionDetails" in reply:
            raise RuntimeError(f"the page's script failed: {reply['exceptionDetails'].get('text')}")
        return reply["result"].get("value")

    def errors(self) -> list[str]:
        return self.browser._errors(self.session)

    def screenshot(self, height: int) -> bytes:
        """The top ``height`` pixels of the page at this tab's width, as PNG."""
        self.resize(height)
        data = self.browser.send("Page.captureScreenshot", {"format": "png"}, session=self.session)["data"]
        self.resize(self.height)
        return base64.b64decode(data)
