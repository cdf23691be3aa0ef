#!/usr/bin/env bash
# Start a throwaway single-node SLURM cluster on this machine, to run workflow/profiles/slurm for real
# (tests/workflow/test_slurm.py, or by hand). Debian 12 / Ubuntu, as root, on a machine that is not part of a
# real cluster.
#
#   LGAE_SLURM_DIR=/tmp/lgae-slurm .ci/slurm/start.sh        ...        LGAE_SLURM_DIR=/tmp/lgae-slurm .ci/slurm/stop.sh
#
# Installs munge and SLURM from the distribution (apt) if missing, writes the cluster's configuration
# (in $LGAE_SLURM_DIR, installed as /etc/slurm/slurm.conf and gres.conf, where every SLURM command
# and job step looks; it refuses to replace a configuration it did not write, and replaces one that an
# earlier, interrupted cluster of its own left behind once that cluster no longer runs), starts munged (unless
# one already answers), slurmctld and slurmd in the foreground of their own sessions, and records the
# PID of each process it started in $LGAE_SLURM_DIR/pids/. stop.sh stops exactly those.
#
# The node is declared with the shape of a GPU node (48 CPUs, 128 GB, 4 GPUs), whatever this machine has,
# so that the jobs of one stage run side by side as on a cluster: the cluster schedules by the
# declaration (SlurmdParameters=config_overrides) and enforces neither CPUs nor memory
# (proctrack/linuxproc, task/none). Its GPUs are a scheduling resource only (gres gpu, on device files
# that behave as /dev/null): a job that asks for one gets CUDA_VISIBLE_DEVICES set, as on a real
# cluster, but no device.
#
#   LGAE_SLURM_DIR     state, logs, pids, configuration (required)
#   LGAE_SLURM_CPUS    declared CPUs (default 48)         LGAE_SLURM_MEM_MB  declared memory (default 131072)
#   LGAE_SLURM_GPUS    declared GPUs (default 4)          LGAE_SLURM_PORT    slurmctld port, slurmd the next (6817)
# Partitions: "cpu" (the default) and "gpu", both on the one node, as the names in workflow/profiles/slurm.
set -euo pipefail

DIR=${LGAE_SLURM_DIR:?set LGAE_SLURM_DIR to a scratch directory for the cluster}
CPUS=${LGAE_SLURM_CPUS:-48}
MEM_MB=${LGAE_SLURM_MEM_MB:-131072}
GPUS=${LGAE_SLURM_GPUS:-4}
PORT=${LGAE_SLURM_PORT:-6817}
START=$(date +%s)
say() { echo "[slurm start +$(($(date +%s) - START))s] $*"; }
die() { echo "[slurm start] error: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (it installs packages and starts daemons as root)"
mkdir -p "$DIR"/{pids,log,dev,state/ctld,state/d}
DIR=$(cd "$DIR" && pwd)

# alive PIDFILE NAME: the recorded process runs (not a zombie) and is called NAME
alive() {
  local pid
  pid=$(cat "$1" 2>/dev/null) || return 1
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ] || return 1
  [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ]
}

# ------------------------------------------------------------------ packages
missing=()
for pair in slurmctld:slurmctld slurmd:slurmd sbatch:slurm-client munged:munge; do
  command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y --no-install-recommends "${missing[@]}" >"$DIR/log/apt.log" 2>&1; then
    apt-get update >>"$DIR/log/apt.log" 2>&1 || true
    apt-get install -y --no-install-recommends "${missing[@]}" >>"$DIR/log/apt.log" 2>&1 ||
      { tail -n 20 "$DIR/log/apt.log" >&2; die "apt-get install ${missing[*]} failed (log: $DIR/log/apt.log)"; }
  fi
fi

# ------------------------------------------------------------------ munge (authentication)
if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  say "munged already answers; using it"
else
  [ -s /etc/munge/munge.key ] || mungekey --create --keyfile=/etc/munge/munge.key
  chown munge:munge /etc/munge/munge.key && chmod 0400 /etc/munge/munge.key
  install -d -o munge -g munge -m 0755 /run/munge /var/lib/munge /var/log/munge
  setsid setpriv --reuid=munge --regid=munge --clear-groups /usr/sbin/munged --foreground \
    >"$DIR/log/munged.log" 2>&1 </dev/null &
  echo $! >"$DIR/pids/munged"
  for _ in $(seq 100); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
  munge -n | unmunge >/dev/null || die "munged did not come up (log: $DIR/log/munged.log)"
  say "munged started (pid $(cat "$DIR/pids/munged"))"
fi

# ------------------------------------------------------------------ configuration
HOST=$(hostname -s)
PREFIX="# written by .ci/slurm/start.sh for "
MARK="$PREFIX$DIR"
for file in slurm.conf gres.conf; do
  [ -e "/etc/slurm/$file" ] || continue
  grep -qxF "$MARK" "/etc/slurm/$file" && continue
  # left by an earlier cluster of this script (another directory): replaceable once that cluster is
  # gone, i.e. an interrupted run that never reached stop.sh; a foreign or live one is kept
  owner=$(sed -n "1s|^$PREFIX||p" "/etc/slurm/$file")
  [ -n "$owner" ] ||
    die "/etc/slurm/$file exists and was not written by this script: not replacing it (move it away to run this cluster)"
  if alive "$owner/pids/slurmctld" slurmctld || alive "$owner/pids/slurmd" slurmd; then
    die "/etc/slurm/$file belongs to a cluster of this script still running from $owner: stop it first (LGAE_SLURM_DIR=$owner .ci/slurm/stop.sh)"
  fi
  say "replacing /etc/slurm/$file left by an earlier cluster from $owner, which no longer runs"
done
cat >"$DIR/slurm.conf" <<EOF
$MARK
ClusterName=lgae-ci
SlurmctldHost=$HOST(127.0.0.1)
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$DIR/state/ctld
SlurmdSpoolDir=$DIR/state/d
SlurmctldPidFile=$DIR/state/slurmctld.pid
SlurmdPidFile=$DIR/state/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
SlurmdParameters=config_overrides
MailProg=/bin/true
ReturnToService=2
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=$((MEM_MB / CPUS))
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
GresTypes=gpu
InactiveLimit=0
KillWait=5
OverTimeLimit=0
# finished jobs stay visible to squeue/scontrol for an hour (status queries without slurmdbd rely on it)
MinJobAge=3600
SlurmctldTimeout=30
SlurmdTimeout=30
Waittime=0
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM_MB Gres=gpu:$GPUS State=UNKNOWN
PartitionName=cpu Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes=$HOST MaxTime=INFINITE State=UP
EOF
# one device file per GPU, as SLURM counts GPUs by file: character devices that behave as /dev/null
for i in $(seq 0 $((GPUS - 1))); do
  [ -c "$DIR/dev/gpu$i" ] || { rm -f "$DIR/dev/gpu$i"; mknod -m 0666 "$DIR/dev/gpu$i" c 1 3; }
done
cat >"$DIR/gres.conf" <<EOF
$MARK
AutoDetect=off
NodeName=$HOST Name=gpu Count=$GPUS File=$DIR/dev/gpu[0-$((GPUS - 1))]
EOF
# the default location: Snakemake's job steps drop SLURM_* variables, SLURM_CONF among them
mkdir -p /etc/slurm
install -m 0644 "$DIR/slurm.conf" "$DIR/gres.conf" /etc/slurm/

# ------------------------------------------------------------------ daemons
for daemon in slurmctld slurmd; do
  if alive "$DIR/pids/$daemon" "$daemon"; then
    say "$daemon already running (pid $(cat "$DIR/pids/$daemon")); restarting it on the new configuration"
    scontrol reconfigure >/dev/null 2>&1 || true
    continue
  fi
  setsid "/usr/sbin/$daemon" -D >"$DIR/log/$daemon.out" 2>&1 </dev/null &
  echo $! >"$DIR/pids/$daemon"
  if [ "$daemon" = slurmctld ]; then
    for _ in $(seq 150); do scontrol ping 2>/dev/null | grep -q UP && break; sleep 0.2; done
    scontrol ping | grep -q UP || die "slurmctld did not come up (log: $DIR/log/slurmctld.log)"
  fi
  say "$daemon started (pid $(cat "$DIR/pids/$daemon"))"
done

for _ in $(seq 150); do
  state=$(sinfo -h -n "$HOST" -o %T 2>/dev/null | head -1)
  case "$state" in
    idle | mixed | allocated) break ;;
    down* | drain*) scontrol update NodeName="$HOST" State=RESUME >/dev/null 2>&1 || true ;;
  esac
  sleep 0.2
done
case "$(sinfo -h -n "$HOST" -o %T | head -1)" in
  idle | mixed | allocated) ;;
  *) tail -n 20 "$DIR/log/slurmctld.log" "$DIR/log/slurmd.log" >&2; die "node $HOST is not up" ;;
esac
say "up: $(sinfo -h -o '%P %a %D %c %m %G %T' | tr '\n' ';')"
