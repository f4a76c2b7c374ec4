#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A real Slurm cluster on this one machine, for tests: munged on a private socket, slurmctld, and one slurmd per node
# (slurmd -N NAME; Debian's slurm-wlm is built with MULTIPLE_SLURMD), each node with GPUS GPUs as GRES on character
# devices made with mknod (Slurm refuses regular files; nothing opens them). Run as root.
#
#   scripts/slurm-test-cluster.sh start DIR [NODES] [GPUS] [ADDRESSES] [NAMESPACES]
#       prints SLURM_CONF=DIR/slurm.conf once every node is idle; nodes are n1..nNODES
#   scripts/slurm-test-cluster.sh stop DIR     stops the daemons it started (by the pids it recorded)
#
# ADDRESSES (comma-separated, one per node; default 127.0.0.1 for all) are the nodes' NodeAddr. Nodes that share an
# address (each has its own slurmd port) put two agents, and two jobs' Spoke clusters, on one address: what proves
# that their ports do not collide. Nodes with loopback addresses of their own (127.0.0.3, say) prove that each agent
# advertises its own node's address.
# NAMESPACES (comma-separated, one per node, empty for none) runs a node's slurmd, and so every task of a step on
# it, in that network namespace (made by scripts/netns-cluster.sh up, its address as the node's NodeAddr): a node
# whose loopback is its own, as on a real host. slurmctld then listens where the namespaces reach this machine (their
# default route's gateway, the bridge), and srun's callbacks go there too.
# SLURM_PROCTRACK (default linuxproc) picks Slurm's process tracking plugin: linuxproc, pgid or cgroup.
# SLURM_ACCOUNTING=1 also starts a MariaDB server of its own (on DIR/mysql, loopback only) and slurmdbd on it, so
# that sacct answers (apt-get install slurmdbd mariadb-server).
set -euo pipefail

cmd=${1:?usage: slurm-test-cluster.sh start|stop DIR [NODES] [GPUS]}
dir=${2:?usage: slurm-test-cluster.sh start|stop DIR [NODES] [GPUS]}
nodes=${3:-2}
gpus=${4:-4}
IFS=, read -r -a addresses <<<"${5:-}"
IFS=, read -r -a namespaces <<<"${6:-}"
proctrack=${SLURM_PROCTRACK:-linuxproc}
accounting=${SLURM_ACCOUNTING:-}

stop() {
  local pidfile pid
  for pidfile in "$dir"/pids/*; do
    [ -e "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pidfile in "$dir"/pids/*; do
    [ -e "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$pidfile"
  done
}

# A free TCP port on loopback, as the kernel hands them out.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits for the pid file a daemon writes, and records that pid for stop.
record() {
  local name=$1 file=$2
  for _ in $(seq 1 100); do
    if [ -s "$file" ]; then
      cp "$file" "$dir/pids/$name"
      return 0
    fi
    sleep 0.1
  done
  echo "slurm-test-cluster: $name did not start; its log:" >&2
  cat "$dir/log/$name.log" >&2 2>/dev/null || true
  return 1
}

case "$cmd" in
  stop)
    stop
    exit 0 ;;
  start) ;;
  *) echo "usage: slurm-test-cluster.sh start|stop DIR [NODES] [GPUS]" >&2; exit 2 ;;
esac

tools=(munged slurmctld slurmd sinfo mknod)
[ -z "$accounting" ] || tools+=(slurmdbd mariadbd mariadb-install-db mariadb)
for tool in "${tools[@]}"; do
  command -v "$tool" >/dev/null || {
    echo "slurm-test-cluster: $tool is missing (apt-get install slurm-wlm munge${accounting:+ slurmdbd mariadb-server})" >&2; exit 1; }
done
mkdir -p "$dir"/{pids,log,munge,state,spool,dev}
dir=$(cd "$dir" && pwd)
# munged refuses a socket directory that others can write, and needs every directory above it searchable.
chmod 0755 "$dir"
chmod 0700 "$dir/munge"
d=$dir
while [ "$d" != / ]; do chmod o+x "$d" 2>/dev/null || true; d=$(dirname "$d"); done
dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
chmod 0400 "$dir/munge/munge.key"
munged --force --socket="$dir/munge/socket" --key-file="$dir/munge/munge.key" --pid-file="$dir/munge/munged.pid" \
  --log-file="$dir/log/munged.log" --seed-file="$dir/munge/seed"
record munged "$dir/munge/munged.pid"

# Accounting: a MariaDB of its own on loopback, and slurmdbd on it (slurmctld adds the cluster when it registers).
if [ -n "$accounting" ]; then
  mkdir -p "$dir/mysql"
  mariadb-install-db --user=root --datadir="$dir/mysql" --auth-root-authentication-method=socket --skip-test-db \
    > "$dir/log/mariadb-install.log" 2>&1 || { cat "$dir/log/mariadb-install.log" >&2; exit 1; }
  db_port=$(free_port)
  mariadbd --no-defaults --user=root --datadir="$dir/mysql" --socket="$dir/mysql.sock" --pid-file="$dir/mysql.pid" \
    --port="$db_port" --bind-address=127.0.0.1 --skip-name-resolve --innodb-buffer-pool-size=32M \
    --log-error="$dir/log/mariadbd.log" </dev/null >/dev/null 2>&1 &
  record mariadbd "$dir/mysql.pid"
  for _ in $(seq 1 100); do [ -S "$dir/mysql.sock" ] && break; sleep 0.1; done
  mariadb --no-defaults --socket="$dir/mysql.sock" -u root -e \
    "CREATE USER 'slurm'@'127.0.0.1' IDENTIFIED BY 'spoketest'; GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';"
  dbd_port=$(free_port)
  {
    echo "AuthType=auth/munge"
    echo "AuthInfo=socket=$dir/munge/socket"
    echo "DbdHost=localhost"
    echo "DbdAddr=127.0.0.1"
    echo "DbdPort=$dbd_port"
    echo "SlurmUser=root"
    echo "PidFile=$dir/slurmdbd.pid"
    echo "LogFile=$dir/log/slurmdbd.log"
    echo "StorageType=accounting_storage/mysql"
    echo "StorageHost=127.0.0.1"
    echo "StoragePort=$db_port"
    echo "StorageUser=slurm"
    echo "StoragePass=spoketest"
    echo "StorageLoc=slurm_acct_db"
  } > "$dir/slurmdbd.conf"
  chmod 0600 "$dir/slurmdbd.conf"
  SLURM_CONF=$dir/slurm.conf slurmdbd
  record slurmdbd "$dir/slurmdbd.pid"
fi

host=$(hostname -s)
ctld_port=$(free_port)
ctld_addr=127.0.0.1
for ns in "${namespaces[@]}"; do
  [ -n "$ns" ] || continue
  ip netns list | grep -qw "$ns" || { echo "slurm-test-cluster: no network namespace $ns (scripts/netns-cluster.sh up)" >&2; exit 1; }
  ctld_addr=$(ip netns exec "$ns" ip route show default | awk '/^default via/ {print $3; exit}')
  [ -n "$ctld_addr" ] || { echo "slurm-test-cluster: namespace $ns has no default route to this machine" >&2; exit 1; }
  break
done
{
  echo "ClusterName=spoketest"
  echo "SlurmctldHost=$host($ctld_addr)"
  echo "SlurmctldPort=$ctld_port"
  echo "AuthType=auth/munge"
  echo "CredType=cred/munge"
  echo "AuthInfo=socket=$dir/munge/socket"
  echo "SlurmUser=root"
  echo "SlurmdUser=root"
  echo "StateSaveLocation=$dir/state"
  echo "SlurmdSpoolDir=$dir/spool/%n"
  echo "SlurmctldPidFile=$dir/slurmctld.pid"
  echo "SlurmdPidFile=$dir/slurmd-%n.pid"
  echo "SlurmctldLogFile=$dir/log/slurmctld.log"
  echo "SlurmdLogFile=$dir/log/slurmd-%n.log"
  echo "ProctrackType=proctrack/$proctrack"
  echo "TaskPlugin=task/none"
  echo "SelectType=select/cons_tres"
  echo "SelectTypeParameters=CR_CPU"
  echo "SchedulerType=sched/builtin"
  echo "MpiDefault=none"
  echo "GresTypes=gpu"
  echo "KillWait=10"
  echo "MinJobAge=600"
  echo "ReturnToService=2"
  if [ -n "$accounting" ]; then
    echo "AccountingStorageType=accounting_storage/slurmdbd"
    echo "AccountingStorageHost=127.0.0.1"
    echo "AccountingStoragePort=$dbd_port"
    # The munge socket of slurmctld's (and sacct's) connections to slurmdbd (AuthInfo is not used for them).
    echo "AccountingStoragePass=$dir/munge/socket"
    echo "JobAcctGatherType=jobacct_gather/none"
  fi
  echo "JobCompType=jobcomp/filetxt"
  echo "JobCompLoc=$dir/jobcomp.txt"
  echo "SlurmdTimeout=30"
  echo "InactiveLimit=0"
  cpus=$(nproc)
  names=()
  for i in $(seq 1 "$nodes"); do
    names+=("n$i")
    echo "NodeName=n$i NodeHostname=$host NodeAddr=${addresses[$((i - 1))]:-127.0.0.1} Port=$(free_port) CPUs=$cpus RealMemory=1000 Gres=gpu:$gpus State=UNKNOWN"
  done
  echo "PartitionName=debug Nodes=$(IFS=,; echo "${names[*]}") Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4"
} > "$dir/slurm.conf"
: > "$dir/gres.conf"
for i in $(seq 1 "$nodes"); do
  mkdir -p "$dir/dev/n$i"
  for g in $(seq 0 $((gpus - 1))); do
    [ -e "$dir/dev/n$i/nvidia$g" ] || mknod "$dir/dev/n$i/nvidia$g" c 1 3
  done
  echo "NodeName=n$i Name=gpu File=$dir/dev/n$i/nvidia[0-$((gpus - 1))]" >> "$dir/gres.conf"
done
export SLURM_CONF=$dir/slurm.conf
slurmctld -f "$SLURM_CONF"
record slurmctld "$dir/slurmctld.pid"
for i in $(seq 1 "$nodes"); do
  ns=${namespaces[$((i - 1))]:-}
  # nsenter enters only the network namespace: ip netns exec would also mount a sysfs of its own over /sys,
  # hiding /sys/fs/cgroup, without which slurmd does not start.
  enter=()
  [ -z "$ns" ] || enter=(nsenter --net="/var/run/netns/$ns")
  "${enter[@]}" slurmd -f "$SLURM_CONF" -N "n$i" || {
    echo "slurm-test-cluster: slurmd n$i did not start; its log:" >&2
    cat "$dir/log/slurmd-n$i.log" >&2 2>/dev/null || true
    exit 1
  }
  record "slurmd-n$i" "$dir/slurmd-n$i.pid"
done
for _ in $(seq 1 150); do
  if [ "$(sinfo -h -o '%t' | sort -u | tr -d '\n')" = idle ]; then
    echo "SLURM_CONF=$SLURM_CONF"
    exit 0
  fi
  sleep 0.2
done
echo "slurm-test-cluster: the nodes did not become idle:" >&2
sinfo -N -l >&2 || true
tail -20 "$dir/log/slurmctld.log" >&2 || true
exit 1
