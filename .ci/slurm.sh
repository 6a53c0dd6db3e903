#!/usr/bin/env bash
# Installs Debian's slurm-wlm + munge (when missing) and starts a one-node Slurm cluster without
# systemd, for the Slurm executor's tests (test/engine/slurm.test.ts). Idempotent: when the
# cluster already answers, it only checks it. Needs root. Measured on the CI machine: install
# ≈ 9 s, start ≈ 2 s.
#
# Facts behind the configuration (from a working setup on this machine):
# - munged runs as the `munge` user, with /run/munge owned by it and the key Debian generates;
# - no cgroups: proctrack/linuxproc, task/none, no cgroup.conf;
# - no accounting daemon: jobacct_gather/none, accounting_storage/none (so `sacct` has no data;
#   the executor falls back to squeue and completion markers);
# - SchedulerParameters=sched_interval=1,batch_sched_delay=0,bf_interval=1: without it a small
#   array plus a dependent job took 7–9 s instead of 2–4 s.
set -euo pipefail

if [ "$(id -u)" != 0 ]; then
  echo "slurm.sh: must run as root (installs packages and starts slurmctld/slurmd)" >&2
  exit 1
fi

log() { echo "slurm.sh: $*" >&2; }

cluster_up() {
  timeout 5 sinfo -h -o '%T' 2>/dev/null | grep -Eq '^(idle|mixed|allocated|completing)'
}

if command -v sinfo >/dev/null && cluster_up; then
  log "cluster already up: $(sinfo -h -o '%N %T %c CPUs' | head -1)"
  exit 0
fi

# --- install ---------------------------------------------------------------------------------
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
  log "installing slurm-wlm and munge"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -q --no-install-recommends slurm-wlm munge >/dev/null 2>&1; then
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends slurm-wlm munge >/dev/null
  fi
fi

# --- munge -----------------------------------------------------------------------------------
mkdir -p /run/munge /var/log/munge /var/lib/munge
chown munge:munge /run/munge /var/log/munge /var/lib/munge
chmod 0755 /run/munge
if [ ! -s /etc/munge/munge.key ]; then
  log "generating /etc/munge/munge.key"
  if command -v mungekey >/dev/null; then mungekey --create --force; else dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null; fi
fi
chown munge:munge /etc/munge/munge.key
chmod 0400 /etc/munge/munge.key
if ! pgrep -u munge -x munged >/dev/null; then
  rm -f /run/munge/munge.socket.2 /run/munge/munged.pid
  runuser -u munge -- /usr/sbin/munged
fi
for _ in $(seq 50); do munge -n >/dev/null 2>&1 && break; sleep 0.1; done
munge -n | unmunge >/dev/null || { log "munge does not work"; exit 1; }

# --- slurm.conf ------------------------------------------------------------------------------
HOST=$(hostname -s)
CPUS=${SLURM_CI_CPUS:-2}
MEM_MB=$(awk '/^MemTotal:/ { printf "%d", $2 / 1024 * 0.9 }' /proc/meminfo)
mkdir -p /etc/slurm /var/lib/slurm/slurmctld /var/lib/slurm/slurmd /var/log/slurm /run/slurm
cat >/etc/slurm/slurm.conf <<EOF
# Written by .ci/slurm.sh: a one-node test cluster, no systemd, no cgroups, no accounting.
ClusterName=sluice-ci
SlurmctldHost=${HOST}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmdSpoolDir=/var/lib/slurm/slurmd
SlurmctldPidFile=/run/slurm/slurmctld.pid
SlurmdPidFile=/run/slurm/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1,batch_sched_delay=0,bf_interval=1
MpiDefault=none
SwitchType=switch/none
ReturnToService=2
MinJobAge=300
KillWait=5
InactiveLimit=0
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=${HOST} NodeAddr=127.0.0.1 CPUs=${CPUS} RealMemory=${MEM_MB} State=UNKNOWN
PartitionName=debug Nodes=${HOST} Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF

# --- daemons ---------------------------------------------------------------------------------
if ! pgrep -x slurmctld >/dev/null; then slurmctld -c -i; fi
for _ in $(seq 50); do scontrol ping 2>/dev/null | grep -q UP && break; sleep 0.1; done
if ! pgrep -x slurmd >/dev/null; then slurmd; fi
for _ in $(seq 100); do cluster_up && break; sleep 0.1; done
if ! cluster_up; then
  # A node left DOWN/DRAIN by an earlier unclean stop comes back with a resume.
  scontrol update NodeName="${HOST}" State=RESUME 2>/dev/null || true
  for _ in $(seq 50); do cluster_up && break; sleep 0.2; done
fi
if ! cluster_up; then
  log "cluster did not come up; sinfo says:"
  sinfo >&2 || true
  tail -20 /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log >&2 || true
  exit 1
fi
log "cluster up: $(sinfo -h -o '%N %T %c CPUs')"
