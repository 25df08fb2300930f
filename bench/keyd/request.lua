-- request.lua - one fixed HTTP request for wrk, and a one-line JSON report.
--
--   wrk -t2 -c64 -d10s --latency -s bench/keyd/request.lua http://127.0.0.1:PORT \
--       -- METHOD PATH TOKEN BODY
--
-- METHOD  GET, POST, ...
-- PATH    e.g. /v1/messages/ID/key (query included)
-- TOKEN   sent as "Authorization: Bearer TOKEN"; "-" for none
-- BODY    the JSON body, sent with Content-Type: application/json; "-" for none
--
-- At the end, besides wrk's own output, prints one line
--   BENCH {"requests":N,"seconds":S,"rps":R,"p50_ms":A,"p99_ms":B,"non2xx":C,"socket_errors":D}
-- for bench/keyd/run.mjs. non2xx counts answers that were not 2xx or 3xx:
-- a run with any is not measuring what it should.

local req

function init(args)
  local method, path, token, body = args[1], args[2], args[3], args[4]
  if not method or not path then
    error("usage: wrk ... -s request.lua URL -- METHOD PATH [TOKEN|-] [BODY|-]")
  end
  local headers = {}
  if token and token ~= "-" then
    headers["Authorization"] = "Bearer " .. token
  end
  if body == "-" then
    body = nil
  end
  if body then
    headers["Content-Type"] = "application/json"
  end
  req = wrk.format(method, path, headers, body)
end

function request()
  return req
end

function done(summary, latency, requests)
  local e = summary.errors
  local seconds = summary.duration / 1e6
  io.write(string.format(
    'BENCH {"requests":%d,"seconds":%.3f,"rps":%.1f,"p50_ms":%.3f,"p99_ms":%.3f,' ..
    '"non2xx":%d,"socket_errors":%d}\n',
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.status, e.connect + e.read + e.write + e.timeout))
end
