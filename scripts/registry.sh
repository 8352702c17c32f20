# A throwaway registry for the demo and the benchmarks. Source it, then call start_registry DIR.

# Starts Debian's docker-registry on 127.0.0.1 and a free port; sets REGISTRY (host:port).
start_registry() {
  local dir=$1
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  mkdir -p "$dir"
  cat >"$dir/config.yml" <<YAML
version: 0.1
storage:
  filesystem:
    rootdirectory: $dir/data
http:
  addr: 127.0.0.1:$port
log:
  level: error
YAML
  docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 &
  REGISTRY_PID=$!
  REGISTRY=127.0.0.1:$port
  for _ in $(seq 100); do curl -fs "http://$REGISTRY/v2/" >/dev/null && return 0; sleep 0.1; done
  echo "registry did not start: $(cat "$dir/log")" >&2
  return 1
}
