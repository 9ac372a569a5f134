#!/usr/bin/env bash
# Alternating container cold starts of function images: `docker run` -> first correct raw
# classification, and the CPU the container's cgroup spent by then. The first test image is polled
# from one Python process every 5 ms (a forked curl per poll would steal CPU on 2 cores).
#   bench/coldstart-ab.sh ROUNDS image-a.tar [image-b.tar ...]   (docker-save archives, e.g. from
#   openfaas/build-image.sh with OUT=/ARCHIVE=/IMAGE= set per variant); prints each start and the medians.
# Starts its own dockerd (--bridge=none, own roots and socket), stopped by PID at exit. Root; CIFAR_DIR.
set -uo pipefail
ROUNDS=${1:?rounds}; shift
[[ -f ${CIFAR_DIR:?set CIFAR_DIR}/test_batch.bin ]] || { echo "no test_batch.bin in $CIFAR_DIR" >&2; exit 2; }
WORK=$(mktemp -d /tmp/coldstart-ab.XXXXXX)
export DOCKER_HOST=unix://$WORK/docker.sock
dockerd --bridge=none --iptables=false --ip-masq=false --data-root "$WORK/data" --exec-root "$WORK/exec" \
  -H "$DOCKER_HOST" --pidfile "$WORK/d.pid" > "$WORK/dockerd.log" 2>&1 &
DPID=$!
trap 'docker ps -aq | xargs -r docker rm -f > /dev/null 2>&1; kill $DPID; wait $DPID 2> /dev/null
  grep -F " $WORK/" /proc/mounts | awk "{print \$2}" | sort -r | xargs -r -n1 umount -l; rm -rf "$WORK"' EXIT
for _ in $(seq 1 120); do docker info > /dev/null 2>&1 && break; sleep 0.5; done
IMAGES=()
for archive in "$@"; do IMAGES+=("$(docker load -i "$archive" | sed -n 's/^Loaded image: //p' | tail -1)"); done
python3 - "$ROUNDS" "${IMAGES[@]}" <<'PY'
import http.client, json, os, statistics, subprocess, sys, time
rounds, images = int(sys.argv[1]), sys.argv[2:]
with open(os.path.join(os.environ['CIFAR_DIR'], 'test_batch.bin'), 'rb') as f:
    record = f.read(3073)
label, body, port = record[0], record[1:], 23456

def cpu_ms(container):
    pid = subprocess.check_output(['docker', 'inspect', '-f', '{{.State.Pid}}', container]).decode().strip()
    for line in open(f'/proc/{pid}/cgroup'):
        hierarchy, controllers, path = line.strip().split(':', 2)
        if 'cpuacct' in controllers.split(','):  # cgroup v1
            return int(open(f'/sys/fs/cgroup/cpuacct{path}/cpuacct.usage').read()) / 1e6
        if hierarchy == '0' and controllers == '':  # cgroup v2
            for stat in open(f'/sys/fs/cgroup{path}/cpu.stat'):
                if stat.startswith('usage_usec'):
                    return int(stat.split()[1]) / 1e3

def first_answer(t0):
    while time.time() - t0 < 120:
        try:
            conn = http.client.HTTPConnection('127.0.0.1', port, timeout=10)
            conn.request('POST', '/v1/classify', body=body, headers={'Content-Type': 'application/octet-stream'})
            response = conn.getresponse()
            answer = response.read()
            conn.close()
            if response.status == 200:
                return json.loads(answer)
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(0.005)
    return None

results = {image: [] for image in images}
for r in range(rounds):
    for image in images:
        t0 = time.time()
        container = subprocess.check_output(['docker', 'run', '-d', '--network', 'host', '--cpus', '2', '--memory', '4g',
                                             '--read-only', '--tmpfs', '/tmp', '-e', f'HTTP_PORT={port}', image]).decode().strip()
        started = time.time()
        answer = first_answer(t0)
        answered = time.time()
        cpu = cpu_ms(container)
        subprocess.run(['docker', 'rm', '-f', container], capture_output=True)
        correct = answer is not None and answer.get('index') == label
        results[image].append(((answered - t0) * 1000, cpu))
        print(f'{image} round {r + 1}: docker run {(started - t0) * 1000:.0f} ms, first answer {(answered - t0) * 1000:.0f} ms, '
              f'CPU {cpu:.0f} ms, correct {correct}', flush=True)
        time.sleep(1)
for image, runs in results.items():
    print(f'median {image}: first answer {statistics.median(x[0] for x in runs):.0f} ms, '
          f'CPU {statistics.median(x[1] for x in runs):.0f} ms ({len(runs)} starts)')
PY
