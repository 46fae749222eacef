#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""boxq-web in a real browser (headless Chromium through Selenium) and
/metrics through Prometheus' own parser. Called by web.sh with the jobs
it made; prints TAP-like "ok - " / "not ok - " lines, saves a screenshot
of each page into the artifacts directory.

usage: web_check.py URL ARTIFACTS BIN OOM BURN WIDE HELD BAD NOBODY_JOB
"""
import os
import subprocess
import sys
import time
import urllib.request

from prometheus_client.parser import text_string_to_metric_families
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By

url, artifacts, bindir = sys.argv[1:4]
oom, burn, wide, held, bad, nobody_job = sys.argv[4:10]
failed = 0


def check(what, cond, detail=""):
    global failed
    if cond:
        print(f"ok - {what}")
    else:
        failed += 1
        print(f"not ok - {what}" + (f": {detail}" if detail else ""))
    sys.stdout.flush()


def wait_for(fn, seconds=15):
    """fn() until it is true (returned) or seconds pass (its last value)."""
    end = time.time() + seconds
    while True:
        try:
            v = fn()
        except Exception as e:  # the DOM changed under us: try again
            v = None
            last = e
        if v or time.time() > end:
            return v
        time.sleep(0.2)


def stable(fn):
    """fn() read again while the page swaps its live part under it."""
    for _ in range(20):
        try:
            return fn()
        except StaleElementReferenceException:
            time.sleep(0.05)
    return fn()


def screenshot(drv, name, whole=True):
    # The whole page: the window as tall as the document.
    height = drv.execute_script("return document.documentElement.scrollHeight") if whole else 760
    drv.set_window_size(1400, max(760, min(int(height) + 40, 6000)))
    path = os.path.join(artifacts, name)
    drv.save_screenshot(path)
    check(f"screenshot {name} kept", os.path.getsize(path) > 10000, path)


opts = Options()
opts.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
          "--window-size=1400,900", f"--user-data-dir={os.environ['HOME']}/chromium"):
    opts.add_argument(a)
drv = webdriver.Chrome(service=Service(os.environ.get("DRIVER", "/usr/bin/chromedriver")),
                       options=opts)
try:
    # --- the box now
    drv.get(url + "/")

    def text(sel):
        # The live part is swapped in place every half second: an element
        # found may be replaced before it is read. Read it again then.
        for _ in range(20):
            try:
                return drv.find_element(By.CSS_SELECTOR, sel).text
            except StaleElementReferenceException:
                time.sleep(0.05)
        return drv.find_element(By.CSS_SELECTOR, sel).text

    def row_gone_or(sel, fn):
        try:
            return fn(text(sel))
        except NoSuchElementException:
            return True
    check("/ shows the running burner",
          wait_for(lambda: "burner" in text(f'#running tr[data-job="{burn}"]')))
    row = text(f'#running tr[data-job="{burn}"]')
    check("the burner's usage is shown against its limits",
          " / 2" in row and "256 MiB" in row and "10m 00s" in row, row)
    cpu_card = text('[data-resource="CPUs"]')
    check("the CPU bar says who holds what", "2 of 4 held" in cpu_card and "root" in cpu_card,
          cpu_card)
    check("the memory bar counts the burner's memory",
          "256 MiB of 1 GiB" in text('[data-resource="Memory"]'), text('[data-resource="Memory"]'))
    qrow = text(f'#queue tr[data-job="{wide}"]')
    check("the wide job waits, with the scheduler's reason",
          "queued" in qrow and ("resources" in qrow.lower() or "cpu" in qrow.lower()), qrow)
    check("the wide job is expected to start when the burner's walltime ends",
          "by " in qrow and ("(in 9m" in qrow or "(in 10m" in qrow), qrow)
    hrow = text(f'#queue tr[data-job="{held}"]')
    check("the held job says it is held", "held" in hrow and "qrls" in hrow, hrow)
    order = wait_for(lambda: [r.get_attribute("data-job")
                              for r in drv.find_elements(By.CSS_SELECTOR, "#queue tr[data-job]")])
    check("the queue lists queued jobs before held ones", order.index(wide) < order.index(held),
          str(order))
    check("no script, no environment on the page", "hunter2" not in drv.page_source)
    screenshot(drv, "box.png")

    # It updates in place: release the held job, the row changes, the page
    # was never reloaded (the marker set on it survives).
    drv.execute_script("window.boxqMarker = 42")
    subprocess.run([os.path.join(bindir, "qrls"), held], check=True)
    # Released, it is queued, or already started by backfill (it ends
    # before the wide job's reservation) and gone from the queue.
    changed = wait_for(lambda: row_gone_or(f'#queue tr[data-job="{held}"]',
                                           lambda t: "held" not in t), 20)
    check("a released job's row changes without a reload", changed)
    check("the page was not reloaded",
          drv.execute_script("return window.boxqMarker") == 42 and
          drv.execute_script("return window.boxqUpdates") > 0)

    # --- the OOM-killed job: its memory curve up to the limit
    drv.get(f"{url}/job/{oom}")
    check("/job/ID shows the OOM end", wait_for(lambda: text("#end") == "out-of-memory"), text("h1"))
    def plot_mem():
        lines = [p.get_attribute("points").split()
                 for p in drv.find_elements(By.CSS_SELECTOR, "#plot-mem polyline")]
        limit = drv.find_element(By.CSS_SELECTOR, '#plot-mem line[stroke="#c0392b"]')
        return lines, limit.get_attribute("y1")
    lines, limit_y = stable(plot_mem)
    npts = [len(p) for p in lines]
    # It lived about 4.5 s: a point a second from its shepherd (relayed
    # samples every 3 s would give at most two).
    check("the memory plot has a point a second (in use and peak)",
          len(npts) == 2 and min(npts) >= 4, str(npts))
    mem = text("#plot-mem")
    check("the memory plot draws the limit", "limit 80 MiB" in mem, mem)
    check("the plot says the OOM killer ended it", "OOM killer" in mem, mem)
    # The peak's last point sits at the limit (the kernel killed it there).
    peak = lines[1][-1]
    check("the peak reaches the limit line",
          abs(float(peak.split(",")[1]) - float(limit_y)) < 12, f"{peak} vs y={limit_y}")
    attrs = text("#attrs")
    check("the job's attributes are shown", "growing" in attrs and "80 MiB" in attrs, attrs)
    events = text("#events")
    check("the job's history is shown (its events, not their details: nobody's view)",
          "submitted" in events and "started" in events and "ended" in events and
          "details of a job's events are its owner's" in text("main").lower(), events)
    screenshot(drv, "job-oom.png")

    drv.get(f"{url}/job/{burn}")
    check("a running job's CPU plot shows it using its 2 CPUs",
          wait_for(lambda: len(stable(lambda: drv.find_element(By.CSS_SELECTOR, "#plot-cpu polyline")
                                      .get_attribute("points")).split()) >= 2))
    check("a running job's page shows no environment", "hunter2" not in drv.page_source)
    screenshot(drv, "job-running.png")

    # --- history: the finished jobs of today, per user
    drv.get(url + "/history")
    check("/history counts today's ended jobs", wait_for(lambda: int(text("#n-ended")) >= 4),
          text("#n-ended") if drv.find_elements(By.CSS_SELECTOR, "#n-ended") else "")
    users = text("#users")
    check("/history lists both users", "root" in users and "nobody" in users, users)
    bars = stable(lambda: len(drv.find_elements(By.CSS_SELECTOR, "#plot-cpu-hours rect")))
    check("the CPU-hours plot has bars", bars >= 2, str(bars))
    titles = stable(lambda: " ".join(t.get_attribute("textContent") for t in
                                     drv.find_elements(By.CSS_SELECTOR, "#plot-ends rect title")))
    check("the ends plot shows completed, failed and out of memory",
          "completed" in titles and "failed" in titles and "out of memory" in titles, titles)
    check("the waits plot is drawn",
          stable(lambda: len(drv.find_elements(By.CSS_SELECTOR, "#plot-waits svg"))) == 1)
    screenshot(drv, "history.png")

    drv.get(url + "/metrics")
    screenshot(drv, "metrics.png", whole=False)
finally:
    drv.quit()

# --- /metrics through Prometheus' own parser
body = urllib.request.urlopen(url + "/metrics").read().decode()
fams = {f.name: f for f in text_string_to_metric_families(body)}


def samples(name):
    return [s for f in fams.values() for s in f.samples if s.name == name]


check("/metrics parses", "boxq_up" in fams, ",".join(sorted(fams)))
check("boxq_up is 1", [s.value for s in samples("boxq_up")] == [1.0])
running = sum(s.value for s in samples("boxq_jobs") if s.labels.get("state") == "running")
check("boxq_jobs counts the running burner", running >= 1, str(samples("boxq_jobs")))
check("boxq_jobs has state, queue and user labels",
      all(set(s.labels) == {"state", "queue", "user"} for s in samples("boxq_jobs")))
check("CPUs allocated against capacity",
      samples("boxq_cpus")[0].value == 4 and samples("boxq_cpus_allocated")[0].value >= 2)
check("memory in bytes", samples("boxq_memory_bytes")[0].value == 1 << 30)
ends = {s.labels["reason"]: s.value for s in samples("boxq_job_ends_total")}
check("job ends by reason", ends.get("out-of-memory", 0) >= 1 and ends.get("failed", 0) >= 1 and
      ends.get("completed", 0) >= 2, str(ends))
check("submissions counted", samples("boxq_jobs_submitted_total")[0].value >= 7)
hist = fams.get("boxq_scheduler_pass_duration_seconds")
check("pass duration is a histogram", hist is not None and hist.type == "histogram")
if hist is not None:
    buckets = [s for s in hist.samples if s.name.endswith("_bucket") and s.labels["pass"] == "full"]
    check("its buckets end at +Inf and are cumulative",
          buckets and buckets[-1].labels["le"] == "+Inf" and
          all(a.value <= b.value for a, b in zip(buckets, buckets[1:])))
check("worker and database health",
      samples("boxq_worker_up")[0].value == 1 and samples("boxq_db_size_bytes")[0].value > 0)
for name, f in fams.items():
    if f.type == "counter":
        check(f"counter {name} named _total", all(s.name.endswith("_total") or
                                                  s.name.endswith("_created") for s in f.samples))
sys.exit(1 if failed else 0)
