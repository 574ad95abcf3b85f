#!/usr/bin/env python3
"""Time the web app's list and record pages, and weigh a list page, on a running Rapport.

    python3 benches/pages.py BASE_URL EMAIL PASSWORD [--runs 200]

Signs in through the login form (cookie session), picks record ids through the JSON API,
then requests each page `--runs` times in a row (after 5 untimed warm-up requests) and
prints p50/p99/max in ms: one client, sequential, on loopback, so each time is the
server's time plus the client's few tens of microseconds. The weight of the leads list is
its HTML plus every stylesheet and script it links, uncompressed. Python stdlib only.
"""
import argparse
import http.cookiejar
import json
import re
import statistics
import time
import urllib.parse
import urllib.request


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("email")
    ap.add_argument("password")
    ap.add_argument("--runs", type=int, default=200)
    args = ap.parse_args()
    base = args.base.rstrip("/")

    jar = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    login = browser.open(base + "/login").read().decode()
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
    form = urllib.parse.urlencode(
        {"email": args.email, "password": args.password, "csrf_token": csrf}
    ).encode()
    browser.open(base + "/login", data=form).read()

    request = urllib.request.Request(
        base + "/api/v1/auth/login",
        data=json.dumps({"email": args.email, "password": args.password}).encode(),
        headers={"content-type": "application/json"},
    )
    token = json.load(urllib.request.urlopen(request))["token"]

    def first_id(collection):
        r = urllib.request.Request(
            f"{base}/api/v1/{collection}?limit=1",
            headers={"authorization": f"Bearer {token}"},
        )
        return json.load(urllib.request.urlopen(r))["items"][0]["id"]

    pages = [
        "/leads",
        "/leads?stage=won&sort=value_cents&order=desc",
        "/customers",
        "/contacts",
        "/tasks",
        "/leads/board",
        f"/leads/{first_id('leads')}",
        f"/customers/{first_id('customers')}",
        f"/contacts/{first_id('contacts')}",
        "/",
    ]
    print(f"{'page':<58} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'KB':>7}")
    for page in pages:
        for _ in range(5):
            browser.open(base + page).read()
        times = []
        size = 0
        for _ in range(args.runs):
            started = time.perf_counter()
            body = browser.open(base + page).read()
            times.append((time.perf_counter() - started) * 1000)
            size = len(body)
        times.sort()
        p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
        print(
            f"{page[:58]:<58} {statistics.median(times):8.2f} {p99:8.2f} {times[-1]:8.2f}"
            f" {size / 1000:7.1f}"
        )

    html = browser.open(base + "/leads").read()
    assets = re.findall(rb'(?:href|src)="(/assets/[^"]+\.(?:css|js)[^"]*)"', html)
    weight = len(html) + sum(len(browser.open(base + a.decode()).read()) for a in set(assets))
    print(f"\nleads list page weight: {weight / 1000:.1f} KB "
          f"(HTML {len(html) / 1000:.1f} KB + {len(set(assets))} assets), uncompressed")


if __name__ == "__main__":
    main()
