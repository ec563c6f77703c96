-- Shared by the wrk scripts: one machine-readable line at the end of a run
-- (latencies in microseconds), read by bench/ingest_wrk.py.
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"seconds":%.6f,"status_errors":%d,"socket_errors":%d,' ..
    '"p50":%d,"p95":%d,"p99":%d}\n',
    summary.requests, summary.duration / 1e6, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
