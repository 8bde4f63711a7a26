"""Browser test of the documentation site: every page, opened in headless Chromium.

Usage (CI runs the first form after `mkdocs build --strict`)::

    python tests/browser/check_site.py --site-dir SITE --screenshot build/docs-theory.png
    python tests/browser/check_site.py   # builds the site into a temporary folder first

It serves the built site on 127.0.0.1 (a free port), starts Debian's `chromium` headless with a
fresh profile and drives it through the DevTools protocol over a pipe (`--remote-debugging-pipe`:
no extra Python package, no debugging port). Every HTML page of the site is opened, and the run
fails when a page:

* logs a console error, throws an uncaught exception, or fails to load a resource (any response
  of 400 or more, or a network failure), in the page itself or in one of its workers (the search
  index is loaded by one);
* shows math that MathJax did not typeset: an `arithmatex` element without MathJax output, a
  MathJax error, or raw `$$`, `\\(`, `\\[`, `\\begin{` in the visible text outside code;
* links (any `<a href>` to the same origin) to a URL that does not answer 200, or to an anchor
  that the target page does not have.

It saves a screenshot of a theory page (`--screenshot`). Exit status 0 when every check passes,
1 otherwise, 2 when Chromium or the site cannot be started.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import fcntl
import functools
import http.server
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urldefrag

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--mute-audio",
    "--hide-scrollbars",
    "--remote-debugging-pipe",
)
"""Chromium's command-line flags (plus a fresh `--user-data-dir`)."""

SCREENSHOT_PAGE = "theory/gradient/"
"""The page whose screenshot is saved: the gradient identity, dense with display math."""

RAW_MATH = (
    ("$$", re.compile(r"\$\$")),
    ("\\(", re.compile(r"\\\(")),
    ("\\[", re.compile(r"\\\[")),
    ("\\begin{", re.compile(r"\\begin\{")),
    ("$...\\command...$", re.compile(r"\$[^$\n]*\\[A-Za-z]+[^$\n]*\$")),
)
"""Patterns of TeX that MathJax would have replaced: found in visible text, they are errors."""


def find_unrendered_math(text: str) -> list[str]:
    """The raw-TeX patterns found in `text` (the visible text of a page outside code).

    Args:
        text: visible text.

    Returns:
        For each pattern found, a short description with the surrounding characters.
    """
    found = []
    for name, pattern in RAW_MATH:
        match = pattern.search(text)
        if match:
            start, end = max(0, match.start() - 30), min(len(text), match.end() + 30)
            found.append(f"raw {name!r} in {text[start:end]!r}")
    return found


class _Anchors(HTMLParser):
    """Collects the `id` and `<a name>` values of an HTML document."""

    def __init__(self) -> None:
        super().__init__()
        self.anchors: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for key, value in attrs:
            if value is not None and (key == "id" or (tag == "a" and key == "name")):
                self.anchors.add(value)


def html_anchors(html: str) -> set[str]:
    """The fragment targets (`id` attributes and `<a name>`) of an HTML document."""
    parser = _Anchors()
    parser.feed(html)
    return parser.anchors


def site_pages(site_dir: Path) -> list[str]:
    """The URL paths of every HTML page of a built site, e.g. `theory/gradient/`.

    `index.html` files map to their folder; other `.html` files keep their name.
    """
    paths = []
    for page in sorted(site_dir.rglob("*.html")):
        relative = page.relative_to(site_dir).as_posix()
        if relative.startswith("assets/"):
            continue
        if relative == "index.html":
            paths.append("")
        elif relative.endswith("/index.html"):
            paths.append(relative[: -len("index.html")])
        else:
            paths.append(relative)
    return paths


# ------------------------------------------------------------------------------------------------
# The local web server
# ------------------------------------------------------------------------------------------------


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def serve(site_dir: Path) -> Iterator[str]:
    """Serves `site_dir` on 127.0.0.1 at a free port; yields the base URL (ending in '/')."""
    handler = functools.partial(_QuietHandler, directory=str(site_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


# ------------------------------------------------------------------------------------------------
# Chromium over the DevTools pipe
# ------------------------------------------------------------------------------------------------


def _high_fd(fd: int) -> int:
    """A close-on-exec duplicate of `fd` numbered 10 or more; `fd` is closed."""
    high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return high


class BrowserError(RuntimeError):
    """Chromium could not be started or stopped answering."""


class Chromium:
    """A headless Chromium driven through the DevTools protocol on file descriptors 3 and 4.

    Messages are JSON objects terminated by a NUL byte. Commands for a page carry the
    `sessionId` of a flat session (`Target.attachToTarget(flatten=True)`).
    """

    def __init__(self, executable: str, timeout: float = 30.0) -> None:
        self.timeout = timeout
        self._profile = tempfile.mkdtemp(prefix="irlgan-chromium-")
        # Pipe ends numbered 10 and up, so that the child's dup2 onto 3 and 4 never meets them.
        to_browser_read, self._to_browser = (_high_fd(fd) for fd in os.pipe())
        self._from_browser, from_browser_write = (_high_fd(fd) for fd in os.pipe())

        def attach_pipe() -> None:  # in the child, before exec: the pipe on fds 3 and 4
            os.dup2(to_browser_read, 3)
            os.dup2(from_browser_write, 4)

        args = [executable, *CHROMIUM_FLAGS, f"--user-data-dir={self._profile}", "about:blank"]
        self.process = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            preexec_fn=attach_pipe, close_fds=False,
        )
        os.close(to_browser_read)
        os.close(from_browser_write)
        self._next_id = 0
        self._messages: queue.Queue[dict | None] = queue.Queue()
        self._pending: list[dict] = []
        self._stderr: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._drain_stderr, daemon=True).start()

    def _read(self) -> None:
        buffer = b""
        while True:
            try:
                chunk = os.read(self._from_browser, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                self._messages.put(None)
                return
            buffer += chunk
            while b"\0" in buffer:
                raw, buffer = buffer.split(b"\0", 1)
                self._messages.put(json.loads(raw))

    def _drain_stderr(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self._stderr.append(line.decode(errors="replace").rstrip())

    def _receive(self, deadline: float) -> dict:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        try:
            message = self._messages.get(timeout=remaining)
        except queue.Empty:
            raise TimeoutError from None
        if message is None:
            tail = "\n".join(self._stderr[-20:])
            raise BrowserError(f"chromium closed the DevTools pipe; its last output:\n{tail}")
        return message

    def send(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float | None = None) -> dict:
        """Sends a command and returns its result (events that arrive meanwhile are kept)."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method,
                                   "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        try:
            os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        except OSError as error:
            time.sleep(0.5)  # let the reader collect chromium's last words
            tail = "\n".join(self._stderr[-20:])
            raise BrowserError(f"chromium is not running ({error}); its last output:\n{tail}") \
                from error
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            try:
                reply = self._receive(deadline)
            except TimeoutError:
                raise BrowserError(f"no answer to {method} within the time limit") from None
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise BrowserError(f"{method} failed: {reply['error']}")
                return reply.get("result", {})
            self._pending.append(reply)

    def events(self) -> list[dict]:
        """Every event received so far (and not yet returned), oldest first."""
        while True:
            try:
                message = self._messages.get_nowait()
            except queue.Empty:
                break
            if message is None:
                self._messages.put(None)
                break
            self._pending.append(message)
        events, self._pending = self._pending, []
        return events

    def wait_for_event(self, method: str, session: str, timeout: float) -> bool:
        """Waits for an event; earlier events stay available to `events()`."""
        deadline = time.monotonic() + timeout
        seen = []
        found = False
        for event in self.events():
            seen.append(event)
            found = found or (event.get("method") == method and event.get("sessionId") == session)
        while not found:
            try:
                event = self._receive(deadline)
            except TimeoutError:
                break
            seen.append(event)
            found = event.get("method") == method and event.get("sessionId") == session
        self._pending = seen + self._pending
        return found

    def close(self) -> None:
        """Closes the browser and removes its profile."""
        with contextlib.suppress(Exception):
            self.send("Browser.close", timeout=5)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for fd in (self._to_browser, self._from_browser):
            with contextlib.suppress(OSError):
                os.close(fd)
        shutil.rmtree(self._profile, ignore_errors=True)


# What the page reports once MathJax has finished: visible text outside code, math elements
# left untypeset, MathJax errors and the absolute URLs of all links.
_INSPECT = r"""
(async () => {
  const math = document.querySelectorAll(".arithmatex");
  let mathjax = "absent";
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
    mathjax = "typeset";
  }
  const skip = new Set(["PRE", "CODE", "SCRIPT", "STYLE", "TEXTAREA", "NOSCRIPT",
                        "MJX-ASSISTIVE-MML"]);
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const parts = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    let el = node.parentElement, hidden = false;
    for (let up = el; up; up = up.parentElement) {
      if (skip.has(up.tagName)) { hidden = true; break; }
    }
    if (!hidden && el.checkVisibility && !el.checkVisibility()) hidden = true;
    if (!hidden) parts.push(node.nodeValue);
  }
  const untypeset = [...math].filter(e => !e.querySelector("mjx-container"))
                             .map(e => e.textContent.slice(0, 80));
  const errors = [...document.querySelectorAll("mjx-merror")]
                   .map(e => e.getAttribute("data-mjx-error") || e.textContent.slice(0, 80));
  const links = [...document.querySelectorAll("a[href]")].map(a => a.href);
  return JSON.stringify({text: parts.join(" "), math: math.length, mathjax, untypeset,
                         errors, links, title: document.title});
})()
"""


def _describe_event(event: dict) -> str | None:
    """A failure message for a console error, exception or failed load; None for other events."""
    method, params = event.get("method"), event.get("params", {})
    if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
        args = " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
        return f"console.{params['type']}: {args}"
    if method == "Runtime.exceptionThrown":
        details = params.get("exceptionDetails", {})
        exception = details.get("exception", {}).get("description") or details.get("text")
        return f"uncaught exception: {exception}"
    if method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
        entry = params["entry"]
        return f"console error ({entry.get('source')}): {entry.get('text')} {entry.get('url', '')}"
    if method == "Network.responseReceived":
        response = params.get("response", {})
        if response.get("status", 200) >= 400:
            return f"HTTP {response['status']} for {response.get('url')}"
    if method == "Network.loadingFailed" and not params.get("canceled"):
        return f"load failed: {params.get('errorText')} (request {params.get('requestId')})"
    return None


def check_page(browser: Chromium, session: str, url: str) -> tuple[list[str], dict]:
    """Opens one page; returns its failures and what `_INSPECT` reported."""
    browser.events()  # forget what earlier pages left behind
    result = browser.send("Page.navigate", {"url": url}, session)
    if result.get("errorText"):
        return [f"navigation failed: {result['errorText']}"], {}
    if not browser.wait_for_event("Page.loadEventFired", session, browser.timeout):
        return ["the page did not finish loading"], {}
    evaluated = browser.send(
        "Runtime.evaluate",
        {"expression": _INSPECT, "awaitPromise": True, "returnByValue": True},
        session,
    )
    if "exceptionDetails" in evaluated:
        return [f"inspecting the page failed: {evaluated['exceptionDetails']}"], {}
    report = json.loads(evaluated["result"]["value"])
    failures = []
    children: set[str] = set()  # the page's workers (e.g. the search index), auto-attached
    for _ in range(20):
        time.sleep(0.2)  # let late messages (e.g. from the search worker) arrive
        events = browser.events()
        if not events:
            break
        for event in events:
            source = event.get("sessionId")
            if event.get("method") == "Target.attachedToTarget" and source == session:
                child = event["params"]["sessionId"]
                children.add(child)
                with contextlib.suppress(BrowserError):  # a worker may be gone already
                    browser.send("Runtime.enable", session=child, timeout=5)
                    browser.send("Runtime.runIfWaitingForDebugger", session=child, timeout=5)
                continue
            if source != session and source not in children:
                continue
            message = _describe_event(event)
            if message:
                failures.append(message)
    if report["math"] and report["mathjax"] != "typeset":
        failures.append(f"{report['math']} math elements but MathJax did not load")
    failures += [f"math left untypeset: {text!r}" for text in report["untypeset"]]
    failures += [f"MathJax error: {text}" for text in report["errors"]]
    failures += find_unrendered_math(report["text"])
    return list(dict.fromkeys(failures)), report


def check_links(links: dict[str, set[str]], origin: str) -> list[str]:
    """Checks that every same-origin link answers 200 and that its anchor exists.

    Args:
        links: for each linked URL, the pages that link to it.
        origin: the site's base URL; other links are not followed.
    """
    failures = []
    targets: dict[str, set[str]] = {}
    for link in links:
        if link.startswith(origin):
            base, fragment = urldefrag(link)
            targets.setdefault(base, set())
            if fragment:
                targets[base].add(unquote(fragment))

    def linked_from(wanted: str, fragment: str | None = None) -> str:
        pages = sorted({page for link, referrers in links.items() for page in referrers
                        if urldefrag(link)[0] == wanted
                        and (fragment is None or unquote(urldefrag(link)[1]) == fragment)})
        return f"(linked from {', '.join(pages[:3])}{' ...' if len(pages) > 3 else ''})"

    for base, fragments in sorted(targets.items()):
        where = linked_from(base)
        try:
            with urllib.request.urlopen(base, timeout=10) as response:
                status = response.status
                body = response.read()
                content_type = response.headers.get("Content-Type", "")
        except urllib.error.HTTPError as error:
            failures.append(f"link {base} answers {error.code} {where}")
            continue
        except OSError as error:
            failures.append(f"link {base} cannot be loaded: {error} {where}")
            continue
        if status != 200:
            failures.append(f"link {base} answers {status} {where}")
            continue
        if fragments and "html" in content_type:
            anchors = html_anchors(body.decode("utf-8", errors="replace"))
            for fragment in sorted(fragments - anchors):
                failures.append(
                    f"link {base}#{fragment}: no such anchor {linked_from(base, fragment)}"
                )
    return failures


def find_chromium() -> str:
    """The Chromium executable: $CHROMIUM, else `chromium` or `chromium-browser` on the PATH."""
    for candidate in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser"):
        if candidate and shutil.which(candidate):
            return shutil.which(candidate) or candidate
    raise BrowserError("Chromium not found: apt-get install -y chromium (or set $CHROMIUM)")


def build_site(target: Path) -> None:
    """Runs `mkdocs build --strict` into `target`."""
    root = Path(__file__).resolve().parents[2]
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(target)],
        cwd=root, check=True,
    )


def run(site_dir: Path, screenshot: Path | None, timeout: float,
        screenshot_page: str = SCREENSHOT_PAGE) -> int:
    """Checks every page of the built site at `site_dir`; returns the exit status.

    Args:
        site_dir: the built site.
        screenshot: where to save a PNG of `screenshot_page` (None: no screenshot).
        timeout: seconds to wait for the browser per step.
        screenshot_page: the URL path of the page to photograph, e.g. `theory/gradient/`.
    """
    pages = site_pages(site_dir)
    if not pages:
        print(f"no HTML pages under {site_dir}", file=sys.stderr)
        return 2
    failures: dict[str, list[str]] = {}
    links: dict[str, set[str]] = {}
    try:  # before any thread of ours exists: the child process is set up by a fork
        browser = Chromium(find_chromium(), timeout=timeout)
    except (BrowserError, OSError) as error:
        print(f"cannot start Chromium: {error}", file=sys.stderr)
        return 2
    with serve(site_dir) as origin:
        try:
            target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = browser.send("Target.attachToTarget",
                                   {"targetId": target, "flatten": True})["sessionId"]
            for domain in ("Page", "Runtime", "Log", "Network"):
                browser.send(f"{domain}.enable", session=session)
            browser.send("Target.setAutoAttach", {"autoAttach": True, "flatten": True,
                                                  "waitForDebuggerOnStart": False}, session)
            browser.send("Emulation.setDeviceMetricsOverride",
                         {"width": 1280, "height": 960, "deviceScaleFactor": 1,
                          "mobile": False}, session)
            for path in pages:
                url = origin + path
                page_failures, report = check_page(browser, session, url)
                for link in report.get("links", []):
                    links.setdefault(link, set()).add("/" + path)
                status = "ok" if not page_failures else f"{len(page_failures)} problem(s)"
                print(f"{'/' + path:45s} math {report.get('math', 0):4d}  "
                      f"links {len(report.get('links', [])):4d}  {status}")
                if page_failures:
                    failures["/" + path] = page_failures
                if screenshot is not None and path == screenshot_page:
                    shot = browser.send("Page.captureScreenshot", {"format": "png"}, session)
                    screenshot.parent.mkdir(parents=True, exist_ok=True)
                    screenshot.write_bytes(base64.b64decode(shot["data"]))
                    print(f"screenshot of /{path} saved to {screenshot}")
        except BrowserError as error:
            print(f"browser failure: {error}", file=sys.stderr)
            return 2
        finally:
            browser.close()
        link_failures = check_links(links, origin)
    if screenshot is not None and not screenshot.is_file():
        failures.setdefault("screenshot", []).append(f"page /{screenshot_page} was not found")
    if link_failures:
        failures["links"] = link_failures
    same_origin = sum(1 for link in links if link.startswith(origin))
    print(f"{len(pages)} pages opened, {same_origin} distinct internal links checked")
    if failures:
        for where, problems in failures.items():
            for problem in problems:
                print(f"FAIL {where}: {problem}")
        count = sum(len(p) for p in failures.values())
        print(f"browser check: {count} failure(s)")
        return 1
    print("browser check: all pages passed")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site-dir", type=Path,
                        help="a built site (default: build one into a temporary folder)")
    parser.add_argument("--screenshot", type=Path, default=Path("build/docs-theory-gradient.png"),
                        help="where to save the theory page's screenshot (default: %(default)s)")
    parser.add_argument("--screenshot-page", default=SCREENSHOT_PAGE,
                        help="URL path of the page to photograph (default: %(default)s)")
    parser.add_argument("--timeout", type=float, default=30.0,
                        help="seconds to wait for the browser per step (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.site_dir is not None:
        if not (args.site_dir / "index.html").is_file():
            print(f"{args.site_dir} is not a built site (no index.html)", file=sys.stderr)
            return 2
        return run(args.site_dir.resolve(), args.screenshot, args.timeout, args.screenshot_page)
    with tempfile.TemporaryDirectory(prefix="irlgan-site-") as folder:
        build_site(Path(folder))
        return run(Path(folder), args.screenshot, args.timeout, args.screenshot_page)


if __name__ == "__main__":
    sys.exit(main())
