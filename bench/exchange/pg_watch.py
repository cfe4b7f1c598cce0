# PostgreSQL server CPU by database while a stage runs: polls the postmaster's children every 0.1 s and, when the stop
# file appears, prints user+sys seconds per label (a backend's database, or the background process's name) as JSON.
# A backend's CPU is taken at its last poll, so one that exits early loses at most 0.1 s; processes present at the
# start count only what they use from then on.
# usage: python3 pg_watch.py POSTMASTER_PID STOP_FILE > out.json
import json, os, sys, time
master, stop = int(sys.argv[1]), sys.argv[2]
tick = os.sysconf("SC_CLK_TCK")
def children():
    # The kernel's list of the postmaster's children: no walk over every process, so the poll itself costs little.
    for pid in open(f"/proc/{master}/task/{master}/children").read().split():
        try:
            fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
            title = open(f"/proc/{pid}/cmdline").read().replace("\0", " ").strip()
        except OSError:
            continue
        yield int(pid), title, int(fields[11]) + int(fields[12])
def label(title):
    words = title.removeprefix("postgres: ").split()
    # A backend's title is "postgres: USER DATABASE HOST ACTIVITY"; background processes are named plainly.
    return "db " + words[1] if len(words) >= 3 and ("(" in words[2] or words[2] == "[local]") else " ".join(words)[:40] or "exiting"
start = {pid: ticks for pid, _, ticks in children()}
last = {}
while True:
    done = os.path.exists(stop)
    for pid, title, ticks in children():
        # A label, once a backend has set its title, stays: an exiting backend's title reads empty, and a child just
        # forked still shows the postmaster's command line.
        name = last[pid][0] if pid in last and not last[pid][0].startswith(("/", "exiting")) else label(title)
        last[pid] = (name, ticks - start.get(pid, 0))
    if done: break
    time.sleep(0.1)
by = {}
for name, ticks in last.values(): by[name] = by.get(name, 0) + ticks / tick
print(json.dumps({k: round(v, 2) for k, v in sorted(by.items(), key=lambda kv: -kv[1]) if v > 0}))
