#!/usr/bin/env bash
# Brings up a single-node Slurm (munge + slurmctld + slurmd) on a Debian machine without systemd, for the
# Slurm executor's test (tests/sweep_slurm_test.ts) and CI. Idempotent: exits 0 at once when `sinfo` already
# shows an idle node. Exits 1 (one line on stderr) when Slurm cannot be installed or started; the test then
# prints "skipped: no Slurm" instead of passing silently.
# Needs root (package install, daemons running as munge/slurm). Usage: .ci/slurm-up.sh
set -euo pipefail
log=/tmp/neuroguide-slurm-up.log
fail() { echo "slurm-up: $*" >&2; exit 1; }
node_idle() { sinfo -h -o '%t' 2>/dev/null | grep -Eq '^(idle|mix|alloc)'; }

command -v sinfo >/dev/null && node_idle && { echo "slurm-up: already running"; exit 0; }
[ "$(id -u)" = 0 ] || fail "needs root to install and start Slurm"

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
  echo "slurm-up: installing slurmctld slurmd slurm-client munge"
  export DEBIAN_FRONTEND=noninteractive
  # the 35-package slurm-wlm metapackage is not needed; these four pull 7 packages
  { apt-get update -qq && apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge; } \
    >>"$log" 2>&1 || fail "apt-get install failed (see $log)"
fi

# munged runs as user munge; its socket folder must exist and belong to it (no systemd creates it here)
install -d -o munge -g munge -m 0755 /run/munge
[ -s /etc/munge/munge.key ] || { /usr/sbin/mungekey -c -f >>"$log" 2>&1 && chown munge:munge /etc/munge/munge.key; }
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  su -s /bin/sh munge -c /usr/sbin/munged >>"$log" 2>&1 || fail "munged did not start (see $log)"
  sleep 0.5
  munge -n | unmunge >/dev/null 2>&1 || fail "munge does not round-trip (see $log)"
fi

host=$(hostname -s)
node=$(slurmd -C | head -1)
install -d -o slurm -g slurm /var/lib/slurm/slurmctld /var/log/slurm /var/spool/slurmd
cat >/etc/slurm/slurm.conf <<EOF
ClusterName=neuroguide
SlurmctldHost=${host}(127.0.0.1)
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
ReturnToService=2
SlurmUser=slurm
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
${node}
PartitionName=debug Nodes=${host} Default=YES MaxTime=INFINITE State=UP
EOF

# -c: start clean, so a saved state from another ClusterName ("CLUSTER NAME MISMATCH") cannot block us
pgrep -x slurmctld >/dev/null || slurmctld -c >>"$log" 2>&1 || fail "slurmctld did not start (see $log)"
pgrep -x slurmd >/dev/null || slurmd >>"$log" 2>&1 || fail "slurmd did not start (see $log)"
for _ in $(seq 1 40); do
  node_idle && { echo "slurm-up: node ${host} is up"; exit 0; }
  sleep 0.5
done
fail "node ${host} did not become idle within 20 s (see /var/log/slurm/*.log)"
