"""Browser truth (area BRW): a real headless Chromium runs fetch() / XMLHttpRequest from a page the suite
serves on 127.0.0.1 against the target, and its verdict (allowed or blocked, which response headers
JavaScript can read) is compared with what the model says a conforming server leads to.

fetch.py    the Fetch standard's CORS rules as a pure function of response headers (no I/O), and the
            browser verdict a conforming server leads to (model.evaluate_preflight/evaluate_actual + those rules)
server.py   the origin pages: small HTTP servers on 127.0.0.1, one per origin
driver.py   finding Debian's chromium and chromedriver, starting them off the network, running one request
pages/      the page and its script (package data)
"""
