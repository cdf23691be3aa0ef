#!/usr/bin/env bash
# Stop the cluster .ci/slurm/start.sh started: cancel the jobs still on it, stop exactly the processes
# whose PIDs start.sh recorded in $LGAE_SLURM_DIR/pids/ (never by name), and remove the configuration
# it installed in /etc/slurm. Safe to rerun.
set -uo pipefail

DIR=${LGAE_SLURM_DIR:?set LGAE_SLURM_DIR to the directory given to start.sh}
DIR=$(cd "$DIR" 2>/dev/null && pwd || echo "$DIR")

alive() {
  [ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]
}

# jobs first, while slurmd can still end their steps: by job id, on this cluster only
if [ -s "$DIR/pids/slurmctld" ] && alive "$(cat "$DIR/pids/slurmctld")" slurmctld; then
  jobs=$(squeue -h -o %A -t PENDING,RUNNING,CONFIGURING,COMPLETING 2>/dev/null | tr '\n' ' ')
  if [ -n "${jobs// /}" ]; then
    echo "[slurm stop] cancelling jobs $jobs"
    # shellcheck disable=SC2086
    scancel $jobs
    for _ in $(seq 100); do
      [ -z "$(squeue -h -o %A -t RUNNING,CONFIGURING,COMPLETING 2>/dev/null)" ] && break
      sleep 0.2
    done
  fi
fi

for daemon in slurmd slurmctld munged; do
  file=$DIR/pids/$daemon
  [ -s "$file" ] || continue
  pid=$(cat "$file")
  if alive "$pid" "$daemon"; then
    kill -TERM "$pid"
    for _ in $(seq 100); do alive "$pid" "$daemon" || break; sleep 0.1; done
    if alive "$pid" "$daemon"; then
      kill -KILL "$pid"
      echo "[slurm stop] $daemon (pid $pid) killed"
    else
      echo "[slurm stop] $daemon (pid $pid) stopped"
    fi
  else
    echo "[slurm stop] $daemon (pid $pid) was not running"
  fi
  rm -f "$file"
done

for file in slurm.conf gres.conf; do
  if grep -qxF "# written by .ci/slurm/start.sh for $DIR" "/etc/slurm/$file" 2>/dev/null; then
    rm -f "/etc/slurm/$file"
  fi
done
