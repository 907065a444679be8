"""The live-calls page's test tools (tests/e2e/test_ui_page.py): a plain HTTP fetch that keeps the
response headers, and headless Chromium (Debian's `chromium`, scripts/install-deps.sh) loading /ui."""
import shutil
import urllib.error
import urllib.request

# One headless load: the page polls the API every 1.5 s; the virtual time budget lets several polls run
# (network waits do not use it up), the wall-clock bound catches a browser that hangs on a busy machine.
VIRTUAL_TIME_MS = 6000
BROWSER_TIMEOUT_S = 120


def fetch(url, headers=None, timeout=5.0):
    """(status, {lower-case header: value}, body bytes); HTTP errors are returned, not raised."""
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def chromium_binary():
    path = shutil.which("chromium")
    if not path:
        raise AssertionError("chromium is not installed (scripts/install-deps.sh installs it for this test)")
    return path


def chromium(case, name, url, *extra):
    """Runs headless Chromium on `url` with `extra` switches to its end (bounded); its stdout."""
    profile = case.workdir / f"{name}-profile"
    proc = case.start(name, [chromium_binary(), "--headless=new", "--no-sandbox", "--disable-gpu",
                             "--no-first-run", "--disable-extensions", f"--user-data-dir={profile}",
                             f"--virtual-time-budget={VIRTUAL_TIME_MS}", *extra, url])
    status = proc.wait(BROWSER_TIMEOUT_S)
    case.assertEqual(status, 0, f"chromium exited with {status}: {proc.output()[-2000:]}")
    return proc.stdout_path.read_text(errors="replace")


def dump_dom(case, url):
    """The page's DOM as Chromium sees it after the virtual time budget (its scripts have run)."""
    return chromium(case, "chromium-dom", url, "--dump-dom")


def screenshot(case, url, path, size="1280,900"):
    chromium(case, "chromium-shot", url, f"--screenshot={path}", f"--window-size={size}")
    return path
