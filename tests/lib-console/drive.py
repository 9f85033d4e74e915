#!/usr/bin/env python3
"""drive.py URL - drives a real headless Chromium through the DevTools
protocol: opens URL, then runs the steps on stdin, one per line:

  eval JS    evaluates JS in the page (promises awaited) and prints the
             result as JSON on a line of its own
  wait JS    evaluates JS until it is truthy (every 50 ms, at most 30 s;
             an exception counts as false: the page may be navigating);
             exit 1, naming the step, if it never is
  shot FILE  saves a screenshot of the page as PNG
  errors     prints the page's errors so far (uncaught exceptions,
             console.error, failed loads, CSP violations) as a JSON list
  requests   prints the origins the page has requested so far, as a
             sorted JSON list
  # ...      a comment

Exit 0 when every step ran; 1 on a failed wait or a JS exception; 2 when
the browser cannot be started."""
import json, os, shutil, subprocess, sys, tempfile, time, urllib.request

import websocket


def browser():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return name
    sys.exit("drive.py: no chromium")


def start(profile):
    proc = subprocess.Popen(
        [browser(), "--headless=new", "--no-sandbox", "--disable-gpu",
         "--no-first-run", "--no-default-browser-check",
         "--disable-dev-shm-usage", "--window-size=1280,900",
         "--remote-debugging-port=0",
         "--remote-allow-origins=*", "--user-data-dir=" + profile,
         "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    port_file = os.path.join(profile, "DevToolsActivePort")
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.stderr.write("drive.py: chromium exited\n")
            sys.exit(2)
        try:
            with open(port_file) as f:
                port = int(f.readline())
            pages = json.load(urllib.request.urlopen(
                "http://127.0.0.1:%d/json/list" % port))
            page = [p for p in pages if p.get("type") == "page"]
            if page:
                return proc, page[0]["webSocketDebuggerUrl"]
        except (OSError, ValueError):
            pass
        time.sleep(0.05)
    proc.kill()
    sys.stderr.write("drive.py: chromium did not start\n")
    sys.exit(2)


class Page:
    def __init__(self, ws_url):
        self.ws = websocket.create_connection(ws_url, timeout=60)
        self.n = 0
        self.errors = []
        self.origins = set()

    def event(self, msg):
        m, p = msg.get("method"), msg.get("params", {})
        if m == "Runtime.exceptionThrown":
            d = p["exceptionDetails"]
            self.errors.append((d.get("exception") or {}).get(
                "description") or d.get("text"))
        elif m == "Runtime.consoleAPICalled" and p["type"] in ("error", "assert"):
            self.errors.append(" ".join(str(a.get("value", a.get(
                "description"))) for a in p["args"]))
        elif m == "Log.entryAdded" and p["entry"]["level"] == "error":
            self.errors.append(p["entry"]["text"])
        elif m == "Network.requestWillBeSent":
            url = p["request"]["url"]
            if not url.startswith(("data:", "about:")):
                parts = url.split("/")
                self.origins.add("/".join(parts[:3]))

    def call(self, method, **params):
        self.n += 1
        self.ws.send(json.dumps({"id": self.n, "method": method,
                                 "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if "method" in msg:
                self.event(msg)
            if msg.get("id") == self.n:
                if "error" in msg:
                    raise RuntimeError(msg["error"].get("message"))
                return msg["result"]

    def eval(self, js):
        r = self.call("Runtime.evaluate", expression=js, awaitPromise=True,
                      returnByValue=True)
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            raise RuntimeError((d.get("exception") or {}).get(
                "description") or d.get("text"))
        return r["result"].get("value")

    def eval_quiet(self, js):
        # during a navigation the page may be gone or half built: an
        # exception then only means "not yet"
        try:
            return self.eval(js)
        except RuntimeError:
            return False


def main():
    url = sys.argv[1]
    profile = tempfile.mkdtemp(prefix="nedb-chromium-")
    proc = None
    try:
        proc, ws_url = start(profile)
        page = Page(ws_url)
        for domain in ("Page", "Runtime", "Log", "Network"):
            page.call(domain + ".enable")
        page.call("Page.navigate", url=url)
        for raw in sys.stdin:
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            verb, _, js = line.partition(" ")
            if verb == "eval":
                print(json.dumps(page.eval(js), ensure_ascii=False), flush=True)
            elif verb == "wait":
                deadline = time.time() + 30
                while not page.eval_quiet(js):
                    if time.time() > deadline:
                        sys.stderr.write("drive.py: never true: %s\n" % js)
                        return 1
                    time.sleep(0.05)
            elif verb == "shot":
                import base64
                png = page.call("Page.captureScreenshot", format="png")
                with open(js, "wb") as f:
                    f.write(base64.b64decode(png["data"]))
            elif verb == "errors":
                page.eval("0")	# take in the events so far
                print(json.dumps(page.errors, ensure_ascii=False), flush=True)
            elif verb == "requests":
                page.eval("0")
                print(json.dumps(sorted(page.origins)), flush=True)
            else:
                sys.stderr.write("drive.py: bad step: %s\n" % line)
                return 1
        return 0
    except RuntimeError as e:
        sys.stderr.write("drive.py: %s\n" % e)
        return 1
    finally:
        if proc:
            proc.kill()
            proc.wait()
        shutil.rmtree(profile, ignore_errors=True)


sys.exit(main())
