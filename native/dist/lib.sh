# Sourced by the distribution's test and benchmark scripts (test.sh, smoke.sh, deb-test.sh, start-bench.sh).

# A TCP port free on 127.0.0.1 now.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# wait_health PORT [PID]: true once /health on 127.0.0.1:PORT answers 200 (30 s at most); false as soon
# as PID, when given, has exited.
wait_health() {
  local i
  for i in $(seq 1 300); do
    curl -fsS "http://127.0.0.1:$1/health" >/dev/null 2>&1 && return 0
    if [ -n "${2:-}" ] && ! kill -0 "$2" 2>/dev/null; then return 1; fi
    sleep 0.1
  done
  return 1
}
