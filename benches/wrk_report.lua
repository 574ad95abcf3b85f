-- wrk reporter for benches/foundation.sh: after wrk's own report, prints one line
--   WRK_JSON {...}
-- with throughput and latency percentiles (milliseconds). Request headers (the bearer
-- token) come from wrk's -H on the command line, so this script sends the default request.
--
-- wrk 4 applies its coordinated-omission correction to the latency histogram before
-- done() runs, so these are the same percentiles `wrk --latency` would print.
-- `non2xx` is wrk's status-error count, i.e. responses with status >= 400.

done = function(summary, latency, requests)
  local secs = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_s":%.2f,"rps":%.1f,'
      .. '"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f,"mean_ms":%.3f,'
      .. '"non2xx":%d,"socket_errors":%d,"timeouts":%d,"mb_read":%.2f}\n',
    summary.requests, secs, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, latency.mean / 1000,
    e.status, e.connect + e.read + e.write + e.timeout, e.timeout,
    summary.bytes / 1048576))
end
